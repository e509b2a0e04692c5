from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ReconciliationRun
from accounts.reconcile import registered_checks

# How much of a failing run's output the back office keeps.
REPORT_LINES = 20


class Command(BaseCommand):
    help = (
        "Check that every balance equals the sum of its ledger, that every asset's "
        "total equals deposits minus withdrawals, and every check other apps add "
        "(open orders hold what is locked, books are uncrossed). Prints each "
        "mismatch; exits 1 if there is any. Each run is recorded (time, outcome, "
        "number of mismatches, first lines) for the back office."
    )

    def handle(self, *args, **options):
        started_at = timezone.now()
        failed = 0
        checks = 0
        report: list[str] = []
        for name, check in registered_checks():
            problems = check()
            checks += 1
            if problems:
                failed += len(problems)
                lines = [f"FAIL {name}: {len(problems)} mismatch(es)"]
                lines += [f"  {problem}" for problem in problems]
                report += lines
                for line in lines:
                    self.stdout.write(line)
            else:
                self.stdout.write(f"ok   {name}")
        ReconciliationRun.objects.create(
            started_at=started_at,
            finished_at=timezone.now(),
            clean=not failed,
            checks=checks,
            mismatches=failed,
            report="\n".join(report[:REPORT_LINES]),
        )
        if failed:
            raise CommandError(f"reconcile found {failed} mismatch(es)", returncode=1)
        self.stdout.write("reconcile: clean")
