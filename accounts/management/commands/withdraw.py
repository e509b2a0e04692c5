from accounts import services
from accounts.management.base import FundsCommand


class Command(FundsCommand):
    help = (
        "Debit an amount of an asset from a user's free balance, with a ledger "
        "entry; refused if the funds are not free."
    )
    service = services.balance_withdraw
    done = "Withdrew {amount} {asset} from {username}."
