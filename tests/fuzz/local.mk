# tests/fuzz: libFuzzer targets; without --enable-fuzzing each links
# replay.c and replays its committed corpus under make check.
FUZZ_TARGETS = tests/fuzz/fuzz_http1_request tests/fuzz/fuzz_http1_response
FUZZ_COMMON = tests/fuzz/fuzz.h tests/fuzz/http1_fuzz.h
FUZZ_LDADD = libcore.a $(LLHTTP_LDADD) $(CORE_LIBS)
FUZZ_CORPUS_DIR = $(abs_top_srcdir)/tests/fuzz/corpus

tests_fuzz_fuzz_http1_request_SOURCES = tests/fuzz/fuzz_http1_request.c $(FUZZ_COMMON)
tests_fuzz_fuzz_http1_request_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_http1_request\"
tests_fuzz_fuzz_http1_request_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_http1_response_SOURCES = tests/fuzz/fuzz_http1_response.c $(FUZZ_COMMON)
tests_fuzz_fuzz_http1_response_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_http1_response\"
tests_fuzz_fuzz_http1_response_LDADD = $(FUZZ_LDADD)

check_PROGRAMS += $(FUZZ_TARGETS)
if FUZZING
# Real libFuzzer binaries, built by make check and run by hand
# (tests/fuzz/README.md).
tests_fuzz_fuzz_http1_request_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_http1_response_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
TESTS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_http1_request_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_http1_response_SOURCES += tests/fuzz/replay.c
endif

EXTRA_DIST += tests/fuzz/local.mk tests/fuzz/README.md tests/fuzz/corpus

# Route matching over random listeners (tests/fuzz/fuzz_route_match.c).
FUZZ_TARGETS += tests/fuzz/fuzz_route_match
tests_fuzz_fuzz_route_match_SOURCES = tests/fuzz/fuzz_route_match.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_route_match_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_route_match\"
tests_fuzz_fuzz_route_match_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_route_match_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_route_match_SOURCES += tests/fuzz/replay.c
endif

# TLS ClientHello reader for tls-passthrough (tests/fuzz/fuzz_clienthello.c).
FUZZ_TARGETS += tests/fuzz/fuzz_clienthello
tests_fuzz_fuzz_clienthello_SOURCES = tests/fuzz/fuzz_clienthello.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_clienthello_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_clienthello\"
tests_fuzz_fuzz_clienthello_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_clienthello_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_clienthello_SOURCES += tests/fuzz/replay.c
endif

# Admin API request bodies -> validated change (tests/fuzz/fuzz_api_json.c).
FUZZ_TARGETS += tests/fuzz/fuzz_api_json
tests_fuzz_fuzz_api_json_SOURCES = tests/fuzz/fuzz_api_json.c tests/fuzz/fuzz.h \
	api/json.c api/api_config.c api/api_passwd.c
tests_fuzz_fuzz_api_json_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_api_json\"
tests_fuzz_fuzz_api_json_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_api_json_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_api_json_SOURCES += tests/fuzz/replay.c
endif

# The request-target parser (tests/fuzz/fuzz_target.c).
FUZZ_TARGETS += tests/fuzz/fuzz_target
tests_fuzz_fuzz_target_SOURCES = tests/fuzz/fuzz_target.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_target_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_target\"
tests_fuzz_fuzz_target_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_target_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_target_SOURCES += tests/fuzz/replay.c
endif

# Request path and Host normalisation (tests/fuzz/fuzz_normalize.c).
FUZZ_TARGETS += tests/fuzz/fuzz_normalize
tests_fuzz_fuzz_normalize_SOURCES = tests/fuzz/fuzz_normalize.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_normalize_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_normalize\"
tests_fuzz_fuzz_normalize_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_normalize_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_normalize_SOURCES += tests/fuzz/replay.c
endif

# The origin's request head (tests/fuzz/fuzz_rewrite.c).
FUZZ_TARGETS += tests/fuzz/fuzz_rewrite
tests_fuzz_fuzz_rewrite_SOURCES = tests/fuzz/fuzz_rewrite.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_rewrite_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_rewrite\"
tests_fuzz_fuzz_rewrite_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_rewrite_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_rewrite_SOURCES += tests/fuzz/replay.c
endif

# PROXY protocol v1/v2 headers from a trusted peer (tests/fuzz/fuzz_proxy_proto.c).
FUZZ_TARGETS += tests/fuzz/fuzz_proxy_proto
tests_fuzz_fuzz_proxy_proto_SOURCES = tests/fuzz/fuzz_proxy_proto.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_proxy_proto_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_proxy_proto\"
tests_fuzz_fuzz_proxy_proto_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_proxy_proto_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_proxy_proto_SOURCES += tests/fuzz/replay.c
endif

# RFC 6902 JSON Patch and revision deltas (tests/fuzz/fuzz_json_patch.c).
FUZZ_TARGETS += tests/fuzz/fuzz_json_patch
tests_fuzz_fuzz_json_patch_SOURCES = tests/fuzz/fuzz_json_patch.c tests/fuzz/fuzz.h \
	api/json.c api/json_delta.c
tests_fuzz_fuzz_json_patch_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_json_patch\"
tests_fuzz_fuzz_json_patch_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_json_patch_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_json_patch_SOURCES += tests/fuzz/replay.c
endif

# Accept-Encoding and the coding chosen (tests/fuzz/fuzz_accept_encoding.c).
FUZZ_TARGETS += tests/fuzz/fuzz_accept_encoding
tests_fuzz_fuzz_accept_encoding_SOURCES = tests/fuzz/fuzz_accept_encoding.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_accept_encoding_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS=\"$(FUZZ_CORPUS_DIR)/fuzz_accept_encoding\"
tests_fuzz_fuzz_accept_encoding_LDADD = $(FUZZ_LDADD)
if FUZZING
tests_fuzz_fuzz_accept_encoding_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_accept_encoding_SOURCES += tests/fuzz/replay.c
endif
