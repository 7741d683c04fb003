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

With ``COURTROOM_VOSK_MODEL`` set, also real vosk on ../shared/audio/zh:
character error rate and real-time factor (run in a child process without
the stand-in).
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


def overhead(engine: Any, seconds: float) -> tuple[float, float]:
    """CPU seconds of the engine alone and of the whole pipeline, same audio."""
    import av

    from asr.stream import SpeakerStream
    pcm, _ = tone_audio(seconds, channels=2)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16_000)
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="stereo")
    frame.sample_rate = RATE
    mono = b"".join(f.to_ndarray().tobytes() for f in resampler.resample(frame) + resampler.resample(None))

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
        finals: list[Any] = []
        stream = SpeakerStream(engine, "s", finals.append, max_lag=1e9, partial_interval=0.1)
        t0 = time.process_time()
        for at in range(0, len(pcm), 960):  # 20 ms chunks, as from a browser or a seat
            stream.feed(pcm[at:at + 960], RATE, 2)
        stream.close()
        return time.process_time() - t0

    alone = statistics.median(engine_alone() for _ in range(3))
    whole = statistics.median(pipeline() for _ in range(3))
    return alone, whole


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


def real_vosk(model: str) -> None:
    """Runs in a child process without the stand-in on the path."""
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
    errors = chars = 0
    audio = elapsed = 0.0
    strip = str.maketrans("", "", "，。？！、；：“”‘’（）《》 ,.?!")
    for name, ref in sorted(refs.items()):
        with wave.open(str(clips / name)) as w:
            audio += w.getnframes() / w.getframerate()
        t0 = time.perf_counter()
        hyp = "".join(r.text for r in transcribe(clips / name, engine))
        elapsed += time.perf_counter() - t0
        a, b = ref.translate(strip), hyp.translate(strip)
        errors += _edits(a, b)
        chars += len(a)
    print(f"  real vosk ({Path(model).name}) on {len(refs)} clips: CER {100 * errors / max(chars, 1):.1f}% "
          f"over {chars} characters; {audio / elapsed:.1f}x real time")


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
    args = p.parse_args()
    if args.real_vosk:
        real_vosk(args.real_vosk)
        return
    sys.path[:0] = [str(SHARED / "testing" / "tone_vosk"), str(SHARED / "testing")]
    import vosk
    assert vosk.TONE_SHIM

    from asr.engine import VoskEngine
    engine = VoskEngine(TONE_MODEL)
    alone, whole = overhead(engine, 60)
    print("asr_throughput (tone stand-in for vosk)")
    print(f"  CPU for 60 s of audio: engine alone {alone:.2f} s, whole pipeline {whole:.2f} s "
          f"(pipeline adds {100 * (whole - alone) / alone:.1f}%)")
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
    model = os.environ.get("COURTROOM_VOSK_MODEL")
    if model:
        subprocess.run([sys.executable, "-m", "tests.bench.asr_throughput", "--real-vosk", model],
                       cwd=ROOT, check=False)
    else:
        print("  real vosk: not run (set COURTROOM_VOSK_MODEL to a Chinese vosk model folder)")


if __name__ == "__main__":
    main()
