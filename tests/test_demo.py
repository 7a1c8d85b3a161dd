"""`make demo` end to end, pointed at the test broker the way a user points it at theirs."""

from streams_app.demo import run_demo


async def test_demo_counts_match_the_csv(kafka_bootstrap, monkeypatch, capsys):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    assert await run_demo(rate=2000.0, timeout=120.0) == 0
    out = capsys.readouterr().out
    assert "counts match a plain count of rides.csv" in out
    assert "live counts" in out
    assert "dashboard at http://127.0.0.1:" in out  # stdin is no terminal here: no wait
