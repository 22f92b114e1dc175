# tests/unit: one cmocka program per module, linked against libcore.a.
UNIT_HTTP_TESTS =
UNIT_STORE_TESTS =
UNIT_NET_TESTS =
UNIT_TESTS = $(UNIT_HTTP_TESTS) $(UNIT_STORE_TESTS) $(UNIT_NET_TESTS)
if HAVE_CMOCKA
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif
