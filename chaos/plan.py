"""The run's plan, drawn from one seed before anything starts: the stores, every credit's store, amount
and fate, treasury's requests for a transfer now, the adjustments, each fault with the moment it is
injected (after so many credits were driven), and a tenant's bulk file of SPEI and closed-loop rows with
the moments it is submitted and sent again. The same seed and sizes draw the same plan."""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from domain import clabe

MODES = ("instant", "hourly", "daily", "weekly", "monthly")
# Stores take their modes in this order: instant ones pay each contribution, so they are the bank's busiest.
STORE_MODES = ("instant", "hourly", "daily", "instant", "weekly", "monthly", "instant", "hourly", "instant", "daily")
KILLABLE = ("worker", "relay", "scheduler", "web")
FAULT_WEIGHTS = {"kill:worker": 4, "kill:relay": 2, "kill:scheduler": 2, "kill:web": 1,
                 "rabbitmq:close-connections": 2, "mysql:kill-connections": 3}
FAULT_KINDS = tuple(FAULT_WEIGHTS)
REASONS = ("rejected", "returned", "fraud", "death", "refinanced")
DELIVER, CANCEL_BEFORE, CANCEL_AFTER = "deliver", "cancel_before_delivery", "cancel_after_delivery"
REJECT_SHARE = 0.15  # of the transfers treasury is asked to approve
LONG_OUTAGE_SHARE = 0.1  # of the processes killed
# The bulk tenant's payment modes: payroll over SPEI, wallet top-ups through the closed loop.
BULK_MODES = {"nomina": "spei", "monedero": "closedloop"}
BULK_CONFIG = {"payment-modes": BULK_MODES, "partylookup.enable": False, "splitting.sub-batch-size": 25}
BULK_COLUMNS = ("id", "request_id", "payment_mode", "payee_identifier_type", "payee_identifier", "amount", "currency",
                "note")
BULK_SPEI_SHARE = 0.5
BULK_WALLETS = 40  # closed-loop payees; some are paid several times (distinct rows, each paid once)


@dataclass(frozen=True)
class StorePlan:
    """One store of the run: its mode, whether treasury approves its transfers, its minimum and commission."""

    index: int
    mode: str
    requires_confirmation: bool
    minimum_transfer: int
    commission: str

    @property
    def name(self) -> str:
        """The store's (and its merchant's) name."""
        confirm = " approval" if self.requires_confirmation else ""
        return f"Chaos {self.index:02d} {self.mode}{confirm}"


@dataclass(frozen=True)
class CreditPlan:
    """One credit: its store, amount and fate; a credit cancelled after delivery is cancelled once
    ``cancel_at`` credits have been driven."""

    index: int
    store: int
    amount: int
    fate: str
    reason: str | None = None
    cancel_at: int | None = None


@dataclass(frozen=True)
class FaultPlan:
    """One fault: its kind, after how many credits it is injected, how long a killed process stays down,
    and the share of the database connections killed."""

    number: int
    at_credit: int
    kind: str
    down_seconds: float
    share: float


@dataclass(frozen=True)
class TimedAction:
    """A treasury action once ``at_credit`` credits were driven: a transfer now, or an adjustment."""

    at_credit: int
    store: int
    amount: int = 0  # adjustments only


@dataclass(frozen=True)
class BulkRowPlan:
    """One row of the bulk file: its payment mode (``nomina`` pays a CLABE over SPEI, ``monedero`` a
    closed-loop wallet), payee, amount (minor units, MXN) and note (an SPEI payee's name)."""

    row: int
    payment_mode: str
    payee: str
    amount: int
    note: str

    @property
    def connector(self) -> str:
        """The connector the tenant's configuration pays this row through."""
        return BULK_MODES[self.payment_mode]

    @property
    def amount_text(self) -> str:
        """The amount as the file writes it, in pesos: ``850`` or ``850.50``."""
        pesos, centavos = divmod(self.amount, 100)
        return f"{pesos}" if centavos == 0 else f"{pesos}.{centavos:02d}"


@dataclass(frozen=True)
class BulkPlan:
    """The bulk file of a tenant: its rows, its X-CorrelationID, and after how many credits it is submitted
    and then sent again (the same file under the same X-CorrelationID: the same batch must answer)."""

    tenant: str
    request_id: str
    rows: tuple[BulkRowPlan, ...]
    at_credit: int
    again_at_credit: int

    def csv(self) -> bytes:
        """The file, as the tenant's client uploads it."""
        lines = [",".join(BULK_COLUMNS)]
        for r in self.rows:
            kind = "clabe" if r.connector == "spei" else "accountid"
            lines.append(",".join((str(r.row), f"{self.request_id}-{r.row}", r.payment_mode, kind, r.payee,
                                   r.amount_text, "MXN", r.note)))
        return ("\n".join(lines) + "\n").encode()

    def conflicting_csv(self) -> bytes:
        """Other content under the same X-CorrelationID (the first row for a centavo more): must be a 409."""
        first = self.rows[0]
        other = BulkPlan(self.tenant, self.request_id, (BulkRowPlan(first.row, first.payment_mode, first.payee,
                                                                    first.amount + 1, first.note),), 0, 0)
        return other.csv()

    def total(self, connector: str | None = None) -> int:
        """The rows' amounts (of one connector's rows)."""
        return sum(r.amount for r in self.rows if connector is None or r.connector == connector)

    def count(self, connector: str) -> int:
        """How many rows one connector pays."""
        return sum(1 for r in self.rows if r.connector == connector)

    @property
    def float_funding(self) -> int:
        """What the tenant's float is funded with: every closed-loop and SPEI row payable (both are paid
        out of it), and some to spare."""
        return self.total("closedloop") + self.total("spei") + 1_000_000


@dataclass(frozen=True)
class Plan:
    """Everything the run will do, decided before it starts."""

    seed: int
    stores: tuple[StorePlan, ...]
    credits: tuple[CreditPlan, ...]
    faults: tuple[FaultPlan, ...]
    requests: tuple[TimedAction, ...]
    adjustments: tuple[TimedAction, ...]
    bulk: BulkPlan | None = None

    def digest(self) -> str:
        """A short fingerprint of the whole plan: two runs with the same one drove the same work and faults."""
        drawn = (self.stores, self.credits, self.faults, self.requests, self.adjustments, self.bulk)
        return hashlib.sha256(repr(drawn).encode()).hexdigest()[:12]

    def approves(self, transfer_id: int) -> bool:
        """Whether treasury approves this transfer (or rejects it): drawn from the seed and the id, so
        that the decision does not depend on the order in which transfers are seen."""
        return random.Random(f"{self.seed}:approve:{transfer_id}").random() >= REJECT_SHARE


def plan_stores(count: int) -> tuple[StorePlan, ...]:
    """Stores of every mode in turn; every third needs treasury's approval, every fourth has a minimum."""
    commissions = ("0.04", "0.035", "0.05", "0.025")
    return tuple(StorePlan(i + 1, STORE_MODES[i % len(STORE_MODES)], i % 3 == 2, 150_000 if i % 4 == 3 else 0,
                           commissions[i % len(commissions)]) for i in range(count))


def _credit(rng: random.Random, index: int, stores: int, credits: int) -> CreditPlan:
    store = rng.randrange(stores)
    amount = rng.choice((rng.randrange(10_000, 200_000), rng.randrange(200_000, 2_000_000)))
    roll = rng.random()
    if roll < 0.03:
        return CreditPlan(index, store, amount, CANCEL_BEFORE, rng.choice(REASONS))
    if roll < 0.10:
        later = min(credits, index + rng.randint(3, 150))
        return CreditPlan(index, store, amount, CANCEL_AFTER, rng.choice(REASONS), later)
    return CreditPlan(index, store, amount, DELIVER)


def plan_faults(rng: random.Random, count: int, credits: int, kinds: tuple[str, ...]) -> tuple[FaultPlan, ...]:
    """``count`` faults spread over the drive; each kind at least once when there are enough of them."""
    if not kinds or count <= 0:
        return ()
    chosen = list(kinds[:count]) + rng.choices(kinds, weights=[FAULT_WEIGHTS[k] for k in kinds],
                                               k=max(0, count - len(kinds)))
    rng.shuffle(chosen)
    moments = sorted(int(credits * rng.uniform(0.03, 0.97)) for _ in chosen)
    return tuple(FaultPlan(n + 1, at, kind, _down_seconds(rng), round(rng.uniform(0.3, 1.0), 2))
                 for n, (at, kind) in enumerate(zip(moments, chosen)))


def _down_seconds(rng: random.Random) -> float:
    """Mostly a crash and a restart (under 4 s); one in ten an outage long enough for the bank to give up
    calling the webhook (20-45 s), so that only queries and reconciliation can find what it said."""
    long = rng.random() < LONG_OUTAGE_SHARE
    return round(rng.uniform(20, 45) if long else rng.uniform(0.3, 4.0), 2)


def plan_bulk(rng: random.Random, seed: int, rows: int, credits: int,
              faults: tuple[FaultPlan, ...] = ()) -> BulkPlan | None:
    """A file of ``rows`` rows, about half SPEI (each to a CLABE of its own, so that a row paid twice would
    show at the bank) and half closed loop (to BULK_WALLETS wallets); amounts of 10 to 20,000 pesos, some
    whole. It is submitted a few credits before one of the faults planned a fifth to 60 % through the
    drive (a worker kill when there is one), so that the faults land on it while it executes; it is sent
    again before the drive ends."""
    if rows <= 0:
        return None
    made = []
    for row in range(rows):
        amount = rng.randrange(1_000, 2_000_000)
        if rng.random() < 0.2:
            amount -= amount % 100
        if rng.random() < BULK_SPEI_SHARE:
            account = clabe.make("012", "180", f"{60_000_000 + seed % 1000 * 10_000 + row:011d}")
            made.append(BulkRowPlan(row, "nomina", account, amount, f"Empleado {row}"))
        else:
            made.append(BulkRowPlan(row, "monedero", f"monedero-{rng.randrange(BULK_WALLETS)}", amount,
                                    f"Monedero {row}"))
    window = [f for f in faults if credits * 0.2 <= f.at_credit <= credits * 0.6]
    targets = [f for f in window if f.kind == "kill:worker"] or window
    at = (max(1, rng.choice(targets).at_credit - rng.randint(2, 12)) if targets
          else int(credits * rng.uniform(0.2, 0.5)))
    again = min(credits - 1, max(at + 1, int(credits * rng.uniform(0.6, 0.9))))
    return BulkPlan(f"chaos-bulk-{seed}", f"chaos-{seed}-bulk", tuple(made), at, again)


def make_plan(seed: int, credits: int, faults: int, kinds: tuple[str, ...] = FAULT_KINDS,
              stores: int | None = None, bulk_rows: int = 0) -> Plan:
    """The whole run from one seed: ``stores`` stores (by default one per 200 credits, 10 to 30), and a
    bulk file of ``bulk_rows`` rows (none when 0)."""
    rng = random.Random(seed)
    store_plans = plan_stores(stores or max(10, min(30, credits // 200)))
    credit_plans = tuple(_credit(rng, i, len(store_plans), credits) for i in range(credits))
    fault_plans = plan_faults(random.Random(f"{seed}:faults"), faults, credits, kinds)
    treasury = random.Random(f"{seed}:treasury")
    scheduled = [s.index - 1 for s in store_plans if s.mode != "instant"]
    requests = tuple(sorted((TimedAction(treasury.randrange(credits), treasury.choice(scheduled))
                             for _ in range(max(3, credits // 15))), key=lambda a: a.at_credit))
    adjustments = tuple(sorted((TimedAction(treasury.randrange(credits), treasury.randrange(len(store_plans)),
                                            treasury.choice((1, 1, -1)) * treasury.randrange(1_000, 50_000))
                                for _ in range(max(2, credits // 250))), key=lambda a: a.at_credit))
    bulk = plan_bulk(random.Random(f"{seed}:bulk"), seed, bulk_rows, credits, fault_plans)
    return Plan(seed, store_plans, credit_plans, fault_plans, requests, adjustments, bulk)
