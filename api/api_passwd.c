/*
 * api_passwd.c: the password policy for admin users.
 *
 * A new password must be at most 1024 bytes and either 12 characters or
 * longer, or a passphrase of 3 or more words of 3 or more letters each;
 * it must use at least 5 different characters, must not be digits only,
 * must not be the user name (either way round, any case), and must not be
 * one of a short list of the most common passwords, seen through case,
 * common letter-for-digit swaps and digits or punctuation at either end
 * ("P@ssw0rd2024!" is "password"), nor a run of the alphabet or of a
 * keyboard row. Every refusal names the rule it broke.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api_int.h"

#define PW_MIN       12
#define PW_MAX       1024
#define PW_WORDS     3
#define PW_WORD_MIN  3
#define PW_DISTINCT  5
#define PW_CORE_SIZE 128

/* Lower case, no digits or punctuation at the ends, letters only. */
static const char *const common[] = {
	"password",
	"passwort",
	"passphrase",
	"passwd",
	"pass",
	"qwerty",
	"qwertz",
	"azerty",
	"letmein",
	"welcome",
	"iloveyou",
	"admin",
	"administrator",
	"root",
	"toor",
	"changeme",
	"default",
	"secret",
	"gatehouse",
	"trustno",
	"football",
	"baseball",
	"basketball",
	"soccer",
	"hockey",
	"sunshine",
	"princess",
	"dragon",
	"monkey",
	"master",
	"superman",
	"batman",
	"starwars",
	"shadow",
	"michael",
	"jennifer",
	"jordan",
	"hunter",
	"ranger",
	"buster",
	"freedom",
	"whatever",
	"computer",
	"internet",
	"login",
	"access",
	"mustang",
	"charlie",
	"samsung",
	"google",
	"pokemon",
	"cheese",
	"summer",
	"winter",
	"spring",
	"autumn",
	"hello",
	"helloworld",
	"loveme",
	"lovely",
	"flower",
	"abc",
	"test",
	"tester",
	"testing",
	"guest",
	"user",
	"zaq",
	"zaqxsw",
	"zxcvbn",
	"asdf",
	"asdfgh",
	"qazwsx",
	"correcthorsebatterystaple",
};

static const char *const runs[] = {
	"abcdefghijklmnopqrstuvwxyz",
	"zyxwvutsrqponmlkjihgfedcba",
	"qwertyuiopasdfghjklzxcvbnm",
	"mnbvcxzlkjhgfdsapoiuytrewq",
	"qazwsxedcrfvtgbyhnujmikolp",
	"1q2w3e4r5t6y7u8i9o0p",
};

static char
unleet(char c)
{
	switch (c) {
	case '0':
		return 'o';
	case '1':
	case '!':
		return 'i';
	case '3':
		return 'e';
	case '4':
	case '@':
		return 'a';
	case '5':
	case '$':
		return 's';
	case '7':
		return 't';
	default:
		return (char)tolower((unsigned char)c);
	}
}

/* <pw> as the common list sees it, into <out>. */
static void
core(const char *pw, char *out, size_t len)
{
	size_t b = 0, e = strlen(pw), n = 0, i;

	while (b < e && !isalpha((unsigned char)pw[b]) && pw[b] != '@' &&
	    pw[b] != '$')
		b++;
	while (e > b && !isalpha((unsigned char)pw[e - 1]))
		e--;
	for (i = b; i < e && n + 1 < len; i++) {
		char c = unleet(pw[i]);

		if (isalpha((unsigned char)c))
			out[n++] = c;
	}
	out[n] = '\0';
}

static bool
is_common(const char *pw)
{
	char c[PW_CORE_SIZE], low[PW_CORE_SIZE];
	size_t i, n;

	if (strlen(pw) >= PW_CORE_SIZE)
		return false;
	core(pw, c, sizeof(c));
	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
		size_t k = strlen(common[i]), j;
		bool rep = c[0] != '\0' && strlen(c) % k == 0;

		/* The word itself, or repeated. */
		for (j = 0; rep && j < strlen(c); j += k)
			rep = strncmp(c + j, common[i], k) == 0;
		if (rep)
			return true;
	}
	for (n = 0; pw[n] != '\0'; n++)
		low[n] = (char)tolower((unsigned char)pw[n]);
	low[n] = '\0';
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		if ((strlen(c) >= 3 && strstr(runs[i], c) != NULL) ||
		    strstr(runs[i], low) != NULL)
			return true;
	return false;
}

/* Words of PW_WORD_MIN letters or more, separated by anything else. */
static unsigned
words(const char *pw)
{
	unsigned n = 0, run = 0;

	for (;; pw++) {
		if (*pw != '\0' && isalpha((unsigned char)*pw)) {
			run++;
			continue;
		}
		if (run >= PW_WORD_MIN)
			n++;
		run = 0;
		if (*pw == '\0')
			return n;
	}
}

static bool
same_ci_reversed(const char *a, const char *b, bool rev)
{
	size_t n = strlen(a), i;

	if (n != strlen(b))
		return false;
	for (i = 0; i < n; i++)
		if (tolower((unsigned char)a[i]) !=
		    tolower((unsigned char)b[rev ? n - 1 - i : i]))
			return false;
	return true;
}

int
passwd_check(const char *pw, const char *user, struct err *e)
{
	bool seen[256] = { false }, digits = true;
	unsigned distinct = 0;
	size_t len = strlen(pw), i;

	if (len > PW_MAX)
		return err_set(e, "password", "must be at most %d bytes",
		    PW_MAX);
	if (len < PW_MIN && words(pw) < PW_WORDS)
		return err_set(e, "password",
		    "must be at least %d characters long, or a passphrase of %d or more words",
		    PW_MIN, PW_WORDS);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pw[i];

		distinct += !seen[c];
		seen[c] = true;
		digits = digits && isdigit(c);
	}
	if (digits)
		return err_set(e, "password", "must not be digits only");
	if (distinct < PW_DISTINCT)
		return err_set(e, "password",
		    "must use at least %d different characters", PW_DISTINCT);
	if (user != NULL &&
	    (same_ci_reversed(pw, user, false) ||
	        same_ci_reversed(pw, user, true)))
		return err_set(e, "password", "must not be the user name");
	if (is_common(pw))
		return err_set(e, "password",
		    "is one of the most common passwords; choose another");
	return 0;
}
