"""The transcription peer: faster-whisper (CTranslate2) on the same tiny.en model.

Usage: python faster_whisper_peer.py MODEL_DIR MEDIA THREADS BEAM
Prints one JSON line: the transcript text and the seconds spent transcribing
(decoding the media and running the model, after the model is loaded).
"""
import json
import sys
import time

from faster_whisper import WhisperModel

model_dir, media, threads, beam = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
started = time.perf_counter()
segments, _info = model.transcribe(media, language="en", beam_size=beam)
text = " ".join(segment.text.strip() for segment in segments)  # the generator does the work
seconds = time.perf_counter() - started
print(json.dumps({"text": text, "seconds": seconds}))
