from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from asr.transcribe import TranscribeError, transcribe
from tests.asr.conftest import SHARED, TONE_MODEL, TONE_VOSK
from tests.asr.support import speech, write_wav

SEATS = [(0.0, 0, "审判长 宣布 现在 开庭"), (3.0, 1, "原告 陈述 诉讼 请求"),
         (3.4, 2, "被告 答辩 意见"), (7.0, 3, "证据 质证 有 异议"), (7.2, 0, "核对 当事人 身份"),
         (11.0, 1, "借款 本金 五 十 万元"), (11.0, 2, "没有 异议")]
SEAT_TEXTS = [(0, "审判长宣布现在开庭。"), (1, "原告陈述诉讼请求。"), (2, "被告答辩意见。"),
              (3, "证据质证有异议。"), (0, "核对当事人身份。"), (1, "借款本金50万元。"), (2, "没有异议。")]


def cli(*args: str, shim: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(TONE_VOSK) if shim else "")
    env.pop("COURTROOM_VOSK_MODEL", None)
    env["XDG_CACHE_HOME"] = "/nonexistent-cache"
    return subprocess.run([sys.executable, "-m", "courtroom.cli", *args], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.mark.parametrize("bleed", [None, -20.0, -12.0])
def test_seat_channels_crosstalk_never_duplicates(engine, tmp_path: Path, bleed: float | None) -> None:  # noqa: ANN001
    pcm, _ = speech(SEATS, rate=48_000, channels=4, bleed_db=bleed)
    path = write_wav(tmp_path / "room.wav", pcm, 48_000)
    results = transcribe(path, engine, channels_as_speakers=True)
    # Each utterance exactly once, on its own seat's channel, nothing leaked.
    assert sorted((int(r.speaker), r.text) for r in results) == sorted(SEAT_TEXTS)
    assert len({w for r in results for w in r.words}) == sum(len(r.words) for r in results)


def test_mono_file_any_format(engine, tmp_path: Path) -> None:  # noqa: ANN001
    import av
    pcm, _ = speech([(0.0, 0, "现在 开庭"), (2.0, 0, "原告 陈述")], rate=44_100, channels=2)
    out = tmp_path / "hearing.ogg"
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libopus", rate=48_000, layout="stereo")
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=48_000)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = 44_100
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert [r.text for r in transcribe(out, engine)] == ["现在开庭。", "原告陈述。"]


def test_silence_gives_no_segments(engine, tmp_path: Path) -> None:  # noqa: ANN001
    path = write_wav(tmp_path / "quiet.wav", np.zeros((16_000 * 5, 1), np.int16), 16_000)
    assert transcribe(path, engine) == []


def test_clipped_speech_is_still_transcribed(engine, tmp_path: Path) -> None:  # noqa: ANN001
    pcm, _ = speech([(0.0, 0, "现在 开庭")], amp=0.99)
    loud = np.clip(pcm.astype(np.int32) * 4, -32768, 32767).astype(np.int16)
    assert (np.abs(loud) == 32767).mean() > 0.05
    path = write_wav(tmp_path / "clipped.wav", loud, 16_000)
    results = transcribe(path, engine)  # must not fail; hard clipping may cost words
    assert all(r.text.endswith("。") for r in results)


@pytest.mark.parametrize("content, message", [
    (b"", "not a readable"),
    (b"this is not audio at all" * 100, "not a readable"),
])
def test_unreadable_files(engine, tmp_path: Path, content: bytes, message: str) -> None:  # noqa: ANN001
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(TranscribeError, match=message):
        transcribe(path, engine)


def test_missing_and_empty_audio(engine, tmp_path: Path) -> None:  # noqa: ANN001
    with pytest.raises(TranscribeError, match="no such file"):
        transcribe(tmp_path / "nope.wav", engine)
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16_000)
    with pytest.raises(TranscribeError, match="no audio"):
        transcribe(empty, engine)


def test_cli_formats(tmp_path: Path) -> None:
    pcm, manifest = speech([(0.0, 0, "现在 开庭"), (2.0, 0, "二 零 二 六 年 三 月 五 日")])
    path = write_wav(tmp_path / "h.wav", pcm, 16_000)
    r = cli("transcribe", str(path), "--model", str(TONE_MODEL), "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    seg = doc["segments"][1]
    assert seg["text"] == "2026年3月5日。" and "speaker" not in seg
    assert set(seg["words"][0]) == {"word", "start", "end", "conf"}
    assert abs(seg["start"] - manifest[2]["start"]) < 0.06
    srt = cli("transcribe", str(path), "--model", str(TONE_MODEL), "--format", "srt").stdout
    assert srt.startswith("1\n00:00:0") and " --> " in srt and "现在开庭。" in srt
    vtt = cli("transcribe", str(path), "--model", str(TONE_MODEL), "--format", "vtt").stdout
    assert vtt.startswith("WEBVTT")
    txt = cli("transcribe", str(path), "--model", str(TONE_MODEL)).stdout
    assert txt.splitlines() == ["[00:00:01] 现在开庭。", "[00:00:03] 2026年3月5日。"]


def test_cli_seat_channels_json(tmp_path: Path) -> None:
    pcm, _ = speech(SEATS[:3], channels=4, bleed_db=-20)
    path = write_wav(tmp_path / "room.wav", pcm, 16_000)
    r = cli("transcribe", str(path), "--model", str(TONE_MODEL), "--format", "json",
            "--channels-as-speakers")
    assert r.returncode == 0, r.stderr
    assert [(s["speaker"], s["text"]) for s in json.loads(r.stdout)["segments"]] == [
        (0, "审判长宣布现在开庭。"), (1, "原告陈述诉讼请求。"), (2, "被告答辩意见。")]
    assert "100%" in r.stderr  # the progress bar


def test_cli_without_a_model_says_what_to_do(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "h.wav", np.zeros((1600, 1), np.int16), 16_000)
    r = cli("transcribe", str(path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--model DIR" in r.stderr and "COURTROOM_VOSK_MODEL" in r.stderr
    assert "courtroom models download small-cn" in r.stderr
    r = cli("transcribe", str(path), "--model", str(tmp_path))
    assert r.returncode == 2 and "not a usable vosk model" in r.stderr and "Traceback" not in r.stderr


def test_cli_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\x00garbage" * 50)
    r = cli("transcribe", str(bad), "--model", str(TONE_MODEL))
    assert r.returncode == 2 and "not a readable audio" in r.stderr and "Traceback" not in r.stderr


def test_real_vosk_on_mandarin_clips() -> None:
    """Runs the real vosk package and a real Chinese model when one is given."""
    model = os.environ.get("COURTROOM_VOSK_MODEL")
    if not model:
        pytest.skip("set COURTROOM_VOSK_MODEL=/path/to/vosk-model-small-cn-0.22 to run real vosk "
                    "on ../shared/audio/zh")
    clips = SHARED / "audio" / "zh"
    refs = dict(line.split("\t", 1) for line in
                (clips / "transcripts.tsv").read_text(encoding="utf-8").splitlines() if "\t" in line)
    name = sorted(refs)[0]
    r = cli("transcribe", str(clips / name), "--model", model, shim=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
