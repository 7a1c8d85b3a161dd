"""The reference topologies built with the streams_app DSL, mirroring the oracle's Java
catalogue (conformance/oracle/src/main/java/conformance/*Ops.java) name for name.

Conventions shared with the oracle: keys are strings, values JSON (integers, or
{"fk": str, "v": int} on foreign-key join inputs), counts are longs, windowed keys are written
as "key@start/end", joins emit {"l": left, "r": right}. A builder returns the topology and its
output topics with their value serdes. A topology the DSL cannot build yet raises
AttributeError / NotImplementedError / ImportError and is reported as missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Params = dict[str, Any]


@dataclass
class PyBuilt:
    """A built topology and its output topics (topic -> value serde)."""

    topology: Any
    outputs: dict[str, Any]


def _dsl() -> Any:
    import streams_app

    return streams_app


def _serdes() -> tuple[Any, Any, Any]:
    from streams_app.serdes import JsonSerde, LongSerde, StringSerde

    return StringSerde(), JsonSerde(), LongSerde()


def _materialized(name: str, value_serde: Any = None) -> Any:
    from streams_app.dsl.options import Materialized

    return Materialized(store_name=name, key_serde=_serdes()[0],
                        value_serde=value_serde or _serdes()[1])


def _table_store(name: str, p: Params, value_serde: Any = None) -> Any:
    """A table's store: versioned when ``p["versioned"]`` gives a history retention (ms)."""
    history = p.get("versioned")
    if history is None:
        return _materialized(name, value_serde)
    from streams_app.dsl.options import Materialized
    from streams_app.dsl.stores import Stores

    mat = Materialized.as_(Stores.persistent_versioned_key_value_store(name, history))
    mat.key_serde, mat.value_serde = _serdes()[0], value_serde or _serdes()[1]
    return mat


def _result_store(name: str, p: Params) -> Any:
    """A table operator's result store: versioned when ``p["result_versioned"]`` is set."""
    return _table_store(name, {"versioned": p.get("result_versioned")})


def int_of(v: Any) -> int:
    """The integer a value carries (its "v" for objects); None counts as 0, as in the oracle."""
    if v is None:
        return 0
    return int(v["v"]) if isinstance(v, dict) else int(v)


def mod_key(v: Any, mod: int) -> str | None:
    """Re-keying by value modulo ``mod`` (floor mod, like Java's Math.floorMod)."""
    return None if v is None else str(int_of(v) % mod)


def plus(v: Any, add: int) -> Any:
    return None if v is None else int_of(v) + add


def at_least(v: Any, bound: int) -> bool:
    return v is not None and int_of(v) >= bound


def below(v: Any, bound: int) -> bool:
    return v is not None and int_of(v) < bound


def agg(n: int, total: int) -> dict[str, int]:
    return {"n": n, "sum": total}


def add_to(a: dict[str, int], v: Any, sign: int) -> dict[str, int]:
    return agg(a["n"] + sign, a["sum"] + sign * int_of(v))


def pair(left: Any, right: Any) -> dict[str, Any]:
    return {"l": left, "r": right}


def _stream(b: Any, topic: str) -> Any:
    s, j, _ = _serdes()
    return b.stream(topic, key_serde=s, value_serde=j)


# -- stream family ---------------------------------------------------------------------------


def _stream_op(name: str, p: Params) -> PyBuilt:
    b = _dsl().StreamsBuilder()
    _, j, _ = _serdes()
    src = _stream(b, "input")
    outputs = {"output": j}
    if name == "stream_map_values":
        add = p.get("add", 1)
        src.map_values(lambda v: plus(v, add)).to("output")
    elif name in ("stream_filter", "stream_filter_not"):
        lo = p.get("min", 0)
        op = src.filter if name == "stream_filter" else src.filter_not
        op(lambda k, v: at_least(v, lo)).to("output")
    elif name == "stream_map":
        suffix, add = p.get("suffix", "x"), p.get("add", 0)
        src.map(lambda k, v: (None if k is None else k + suffix, plus(v, add))).to("output")
    elif name == "stream_select_key":
        mod = p.get("mod", 3)
        src.select_key(lambda k, v: mod_key(v, mod)).to("output")
    elif name == "stream_flat_map":
        n = p.get("n", 2)
        src.flat_map(
            lambda k, v: [(None if k is None else f"{k}-{i}", v) for i in range(n)]
        ).to("output")
    elif name == "stream_flat_map_values":
        n = p.get("n", 2)
        src.flat_map_values(lambda v: [plus(v, i) for i in range(n)]).to("output")
    elif name == "stream_branch":
        from streams_app.dsl.options import Branched

        first, second = p.get("first", 0), p.get("second", 10)
        (
            src.split("split-")
            .branch(lambda k, v: below(v, first), Branched(chain=lambda s: s.to("output-0")))
            .branch(lambda k, v: below(v, second), Branched(chain=lambda s: s.to("output-1")))
            .default_branch(Branched(chain=lambda s: s.to("output-2")))
        )
        outputs = {f"output-{i}": j for i in range(3)}
    elif name == "stream_merge":
        add = p.get("add", 0)
        src.merge(_stream(b, "input2")).map_values(lambda v: plus(v, add)).to("output")
    elif name == "stream_to_table":
        src.to_table(_table_store("store", p)).to_stream().to("output")
    else:
        raise KeyError(name)
    return PyBuilt(b.build(), outputs)


# -- aggregate family ------------------------------------------------------------------------


def _aggregate(name: str, p: Params) -> PyBuilt:
    from streams_app.dsl.options import Grouped

    b = _dsl().StreamsBuilder()
    s, j, long_serde = _serdes()
    src = _stream(b, "input")
    grouped = Grouped(key_serde=s, value_serde=j)
    if name == "cogroup_aggregate":
        return _cogroup(b, src, grouped, p)
    if name.startswith("group_by_key_"):
        g = src.group_by_key(grouped)
    else:
        mod = p.get("mod", 3)
        g = src.group_by(lambda k, v: mod_key(v, mod), grouped)
    op = name.rsplit("_", 1)[1]
    if op == "count":
        g.count(_table_store("store", p, long_serde)).to_stream().to(
            "output", value_serde=long_serde)
        return PyBuilt(b.build(), {"output": long_serde})
    if op == "reduce":
        table = g.reduce(lambda a, v: int_of(a) + int_of(v), _table_store("store", p))
    else:
        init = p.get("init", 0)
        table = g.aggregate(lambda: agg(0, init), lambda k, v, a: add_to(a, v, 1),
                            _table_store("store", p))
    table.to_stream().to("output", value_serde=j)
    return PyBuilt(b.build(), {"output": j})


def _cogroup(b: Any, src: Any, grouped: Any, p: Params) -> PyBuilt:
    """Two streams cogrouped into one aggregate; "mod" > 0 re-keys the second one first."""
    j = _serdes()[1]
    in2 = _stream(b, "input2")
    mod = p.get("mod", 0)
    second = (in2.group_by(lambda k, v: mod_key(v, mod), grouped) if mod > 0
              else in2.group_by_key(grouped))
    init = p.get("init", 0)
    (src.group_by_key(grouped).cogroup(lambda k, v, a: add_to(a, v, 1))
     .cogroup(second, lambda k, v, a: add_to(a, v, -1))
     .aggregate(lambda: agg(0, init), _table_store("store", p))
     .to_stream().to("output", value_serde=j))
    return PyBuilt(b.build(), {"output": j})


# -- table family ----------------------------------------------------------------------------


def _table_source(b: Any, p: Params, store: str) -> Any:
    s, j, _ = _serdes()
    if p.get("materialized", True):
        return b.table("input", key_serde=s, value_serde=j, materialized=_table_store(store, p))
    return b.table("input", key_serde=s, value_serde=j)


def _table_op(name: str, p: Params) -> PyBuilt:
    from streams_app.dsl.options import Grouped

    b = _dsl().StreamsBuilder()
    s, j, long_serde = _serdes()
    result_mat = p.get("result_materialized", False)
    outputs = {"output": j}
    if name == "table_source":
        _table_source(b, p, "store").to_stream().to("output")
    elif name in ("table_filter", "table_filter_not"):
        lo = p.get("min", 0)
        t = _table_source(b, p, "source")
        op = t.filter if name == "table_filter" else t.filter_not
        pred = lambda k, v: at_least(v, lo)  # noqa: E731
        f = op(pred, _result_store("store", p)) if result_mat else op(pred)
        f.to_stream().to("output")
    elif name == "table_map_values":
        mul = p.get("mul", 2)
        t = _table_source(b, p, "source")
        fn = lambda v: None if v is None else int_of(v) * mul  # noqa: E731
        m = t.map_values(fn, _result_store("store", p)) if result_mat else t.map_values(fn)
        m.to_stream().to("output")
    elif name.startswith("table_group_by_"):
        mod = p.get("mod", 3)
        g = _table_source(b, p, "source").group_by(
            lambda k, v: (mod_key(v, mod), v), Grouped(key_serde=s, value_serde=j)
        )
        if name.endswith("_count"):
            g.count(_materialized("store", long_serde)).to_stream().to(
                "output", value_serde=long_serde)
            outputs = {"output": long_serde}
        elif name.endswith("_reduce"):
            g.reduce(lambda a, v: int_of(a) + int_of(v), lambda a, v: int_of(a) - int_of(v),
                     _materialized("store")).to_stream().to("output")
        else:
            g.aggregate(lambda: agg(0, 0), lambda k, v, a: add_to(a, v, 1),
                        lambda k, v, a: add_to(a, v, -1),
                        _materialized("store")).to_stream().to("output")
    else:
        raise KeyError(name)
    return PyBuilt(b.build(), outputs)


# -- windows family --------------------------------------------------------------------------


def window_key(wk: Any) -> str:
    """"key@start/end" for a windowed key (streams_app's Windowed(key, start, end), or a
    Kafka-style one with .window.start/.end)."""
    w = getattr(wk, "window", wk)
    return f"{wk.key}@{w.start}/{w.end}"


def _cogroup_window(p: Params) -> PyBuilt:
    """Two streams cogrouped per time, sliding or session window."""
    dsl = _dsl()
    b = dsl.StreamsBuilder()
    s, j, _ = _serdes()
    grace, kind = p.get("grace", 0), p.get("kind", "tumbling")
    c = (_stream(b, "input").group_by_key().cogroup(lambda k, v, a: add_to(a, v, 1))
         .cogroup(_stream(b, "input2").group_by_key(), lambda k, v, a: add_to(a, v, -1)))
    if kind == "session":
        table = c.windowed_by(dsl.SessionWindows.of_inactivity_gap_and_grace(10, grace)).aggregate(
            lambda: agg(0, 0), lambda k, x, y: agg(x["n"] + y["n"], x["sum"] + y["sum"]),
            _materialized("store"))
    else:
        w = (dsl.TimeWindows.of_size_and_grace(10, grace) if kind == "tumbling"
             else dsl.SlidingWindows.of_time_difference_and_grace(10, grace))
        table = c.windowed_by(w).aggregate(lambda: agg(0, 0), _materialized("store"))
    table.to_stream().map(lambda wk, v: (window_key(wk), v)).to(
        "output", key_serde=s, value_serde=j)
    return PyBuilt(b.build(), {"output": j})


def _window_op(name: str, p: Params) -> PyBuilt:
    if name == "cogroup_window":
        return _cogroup_window(p)
    dsl = _dsl()
    b = dsl.StreamsBuilder()
    s, j, long_serde = _serdes()
    grace = p.get("grace")
    g = _stream(b, "input").group_by_key()
    if name in ("window_tumbling", "window_hopping"):
        size = p.get("size", 10)
        w = (dsl.TimeWindows.of_size_with_no_grace(size) if grace is None
             else dsl.TimeWindows.of_size_and_grace(size, grace))
        if name == "window_hopping":
            w = w.advance_by(p.get("advance", 5))
    elif name == "window_sliding":
        diff = p.get("diff", 10)
        w = (dsl.SlidingWindows.of_time_difference_with_no_grace(diff) if grace is None
             else dsl.SlidingWindows.of_time_difference_and_grace(diff, grace))
    else:
        gap = p.get("gap", 10)
        w = (dsl.SessionWindows.of_inactivity_gap_with_no_grace(gap) if grace is None
             else dsl.SessionWindows.of_inactivity_gap_and_grace(gap, grace))
    windowed = g.windowed_by(w)
    emit = p.get("emit", "update")
    retention = p.get("retention")  # Materialized.with_retention, when set
    if emit == "on_window_close":
        windowed = windowed.emit_strategy(dsl.EmitStrategy.on_window_close())
    store = _materialized("store", long_serde if p.get("agg", "count") == "count" else None)
    if retention is not None:
        store = store.with_retention(retention)
    if p.get("agg", "count") == "count":
        table, serde = windowed.count(store), long_serde
    else:
        table, serde = windowed.reduce(lambda a, v: int_of(a) + int_of(v), store), j
    if emit == "suppress":
        table = table.suppress(dsl.Suppressed.until_window_closes(
            dsl.Suppressed.BufferConfig.unbounded()))
    table.to_stream().map(lambda wk, v: (window_key(wk), v)).to(
        "output", key_serde=s, value_serde=serde)
    return PyBuilt(b.build(), {"output": serde})


# -- joins family ----------------------------------------------------------------------------


def _join_op(name: str, p: Params) -> PyBuilt:
    dsl = _dsl()
    b = dsl.StreamsBuilder()
    s, j, _ = _serdes()
    kind = p.get("kind", "inner")

    def table(topic: str, materialized: bool = True) -> Any:
        if not materialized:  # the join materializes it (an internal store)
            return b.table(topic, key_serde=s, value_serde=j)
        return b.table(topic, key_serde=s, value_serde=j,
                       materialized=_table_store(f"{topic}-store", p))

    def joined(left: Any, right: Any, *args: Any) -> Any:
        method = {"inner": left.join, "left": left.left_join}.get(kind) or left.outer_join
        return method(right, *args)

    if name == "join_stream_stream":
        diff, grace = p.get("diff", 10), p.get("grace")
        w = (dsl.JoinWindows.of_time_difference_with_no_grace(diff) if grace is None
             else dsl.JoinWindows.of_time_difference_and_grace(diff, grace))
        joined(_stream(b, "left"), _stream(b, "right"), pair, w).to("output")
    elif name == "join_stream_table":
        args = (pair,)
        if p.get("grace") is not None:  # KIP-923: stream records wait for the table
            args = (pair, dsl.Joined(key_serde=s, value_serde=j, other_value_serde=j)
                    .with_grace_period(p["grace"]))
        joined(_stream(b, "left"), table("right"), *args).to("output")
    elif name == "join_table_table":
        args: tuple[Any, ...] = (pair,)
        if p.get("result_materialized", False):
            args = (pair, _result_store("store", p))
        sources = p.get("materialized", True)
        joined(table("left", sources), table("right", sources), *args).to_stream().to("output")
    elif name == "join_stream_globaltable":
        mod = p.get("mod", 3)
        gt = b.global_table("right", key_serde=s, value_serde=j,
                            materialized=_materialized("right-store"))
        mapper = ((lambda k, v: k) if p.get("mapper", "key") == "key"
                  else (lambda k, v: mod_key(v, mod)))
        joined(_stream(b, "left"), gt, mapper, pair).to("output")
    elif name == "join_foreign_key":
        def fk(k: Any, v: Any) -> Any:
            return None if v is None else v.get("fk")

        joined(table("left"), table("right"), fk, pair).to_stream().to("output")
    else:
        raise KeyError(name)
    return PyBuilt(b.build(), {"output": j})


def _entries() -> dict[str, Callable[[Params], PyBuilt]]:
    from conformance.families import TOPOLOGIES

    by_family = {"stream": _stream_op, "aggregate": _aggregate, "table": _table_op,
                 "windows": _window_op, "joins": _join_op}
    return {
        name: (lambda p, _n=name, _f=by_family[spec.family]: _f(_n, p))
        for name, spec in TOPOLOGIES.items()
    }


CATALOGUE: dict[str, Callable[[Params], PyBuilt]] = _entries()
