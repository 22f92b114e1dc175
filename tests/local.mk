# tests/: unit (cmocka), fuzz corpus replay, end-to-end (pytest).
UNIT_LDADD_COMMON = libcore.a $(LLHTTP_LDADD) $(CORE_LIBS)
AM_TESTS_ENVIRONMENT = CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	GATEHOUSED=$(abs_top_builddir)/gatehoused; export GATEHOUSED; \
	TOP_SRCDIR=$(abs_top_srcdir); export TOP_SRCDIR;
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
EXTRA_DIST += tests/local.mk

include tests/unit/local.mk
include tests/fuzz/local.mk
include tests/e2e/local.mk
