from django.core.management.base import BaseCommand, CommandError

from accounts.reconcile import registered_checks


class Command(BaseCommand):
    help = (
        "Check that every balance equals the sum of its ledger, that every asset's "
        "total equals deposits minus withdrawals, and every check other apps add "
        "(open orders hold what is locked, books are uncrossed). Prints each "
        "mismatch; exits 1 if there is any."
    )

    def handle(self, *args, **options):
        failed = 0
        for name, check in registered_checks():
            problems = check()
            if problems:
                failed += len(problems)
                self.stdout.write(f"FAIL {name}: {len(problems)} mismatch(es)")
                for problem in problems:
                    self.stdout.write(f"  {problem}")
            else:
                self.stdout.write(f"ok   {name}")
        if failed:
            raise CommandError(f"reconcile found {failed} mismatch(es)", returncode=1)
        self.stdout.write("reconcile: clean")
