from accounts import services
from accounts.management.base import FundsCommand


class Command(FundsCommand):
    help = "Credit an amount of an asset to a user's free balance, with a ledger entry."
    service = services.balance_deposit
    done = "Deposited {amount} {asset} for {username}."
