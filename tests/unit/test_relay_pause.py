"""The relay's pause when the outbox is empty: short right after traffic, doubling to the longest."""
from adapters.relay import IdlePause


def test_the_pause_doubles_while_the_outbox_stays_empty_and_starts_short_after_traffic() -> None:
    pause = IdlePause(0.2)
    assert [pause.next() for _ in range(8)] == [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.2, 0.2]
    pause.reset()
    assert pause.next() == 0.005


def test_a_longest_pause_below_the_shortest_is_the_shortest() -> None:
    assert IdlePause(0.0).next() == IdlePause.SHORTEST
