# tests/fuzz: libFuzzer targets; without --enable-fuzzing each links
# replay.c and replays its committed corpus under make check.
