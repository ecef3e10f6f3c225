#!/usr/bin/env python3
"""Speech drafts: transcription speed as a ratio to the clip's duration, peak memory, and quality.

    python -m bench.bench_speech [--runs 3]

For each sample clip (assets/samples/raw): the model's load time apart (once), then the
transcription with word timestamps, timed `--runs` times (median); the ratio is transcription
seconds / clip seconds (goal < 1x on 2 cores). On a shared machine the wall time says more about
the neighbours than about us, so the CPU time spread over the cores is printed beside it, with
the load average. Peak memory is this process's maximum resident
set while transcribing (goal < 1 GB). Quality against the shipped subtitles: WER (jiwer; CER for
Japanese) and the largest cue-boundary difference (goal for English: WER < 15 %, within 0.5 s).
Needs the [speech] extra.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from assets.speech.cues import cut_cues
from assets.speech.figures import compare
from assets.speech.model import find_model, load_model
from assets.speech.styleguide import rules_for
from assets.speech.transcribe import transcribe
from assets.subtitles import read_subtitles

SAMPLES = REPO / "assets" / "samples" / "raw"
CLIPS = [("james-carter", "en"), ("camille-tremblay", "fr"), ("aiko-tanaka", "ja")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = find_model()
    started = time.perf_counter()
    load_model(str(folder))
    load = time.perf_counter() - started
    print(f"model {folder} loaded in {load:.2f} s (int8, {os.cpu_count()} cores), apart from the figures below")
    worst = 0.0
    for clip, language in CLIPS:
        times, cpu = [], []
        transcript = None
        for _ in range(args.runs):
            started, used = time.perf_counter(), time.process_time()
            transcript = transcribe(SAMPLES / f"{clip}.mp4", language)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
        assert transcript is not None
        seconds = statistics.median(times)
        ratio = seconds / transcript.duration
        worst = max(worst, ratio)
        cues = cut_cues(transcript, rules_for(language), fps=30)
        figures = compare(cues, read_subtitles(SAMPLES / f"{clip}.{language}.srt").cues, language)
        boundary = f"{figures.worst_boundary:.2f} s" if figures.worst_boundary is not None else "cue counts differ"
        print(f"{clip} ({language}, {transcript.duration:.1f} s): transcription {seconds:.2f} s = {ratio:.2f}x the clip "
              f"(CPU {statistics.median(cpu):.2f} s: {statistics.median(cpu) / (os.cpu_count() or 1) / transcript.duration:.2f}x "
              "the clip if the cores were ours alone); "
              f"{figures.measure} {figures.error_rate:.1%}; cues {figures.cue_counts[0]} vs {figures.cue_counts[1]}, "
              f"worst boundary {boundary}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores while measuring")
    print(f"worst ratio {worst:.2f}x (goal < 1x); peak memory {peak:.0f} MB (goal < 1024 MB)")
    return 0 if worst < 1 and peak < 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
