/*
 * x509.h: the small X.509 and digest needs of the admin API, on GnuTLS
 * (x509.c is, with tls.c, a gnutls includer; it owns certificate
 * generation for the admin listener only).
 */
#ifndef GH_X509_H
#define GH_X509_H

#include <stddef.h>

#include "err.h"

/* Generates an ECDSA P-256 key and a self-signed certificate (10 years,
 * CN "gatehouse admin"; SANs: "localhost", and <host> when it is an
 * IP address, or for 0.0.0.0 and :: the loopback addresses and the host
 * name) and writes them as PEM to <cert_path> (0644) and
 * <key_path> (0600). 0, or -1 with <e>.
 */
int x509_selfsigned_files(const char *cert_path, const char *key_path,
    const char *host, struct err *e);

/* Lowercase hex SHA-256 of <n> bytes into <out> (65 bytes). 0 or -1. */
int x509_sha256_hex(const void *p, size_t n, char out[65]);

#endif
