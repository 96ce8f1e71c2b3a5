/* test_crypto.c - digests and MACs against published vectors, password hashing,
 * tokens, and unbiased random ranges. */
#include "harness.h"

#include "scrm/crypto.h"

static void hex_is(const unsigned char *b, size_t n, const char *want)
{
	char hex[2 * 64 + 1];
	crypto_hex(b, n, hex);
	assert_string_equal(hex, want);
}

static void test_sha256(void **state)
{
	(void)state;
	unsigned char d[32];
	crypto_sha256("abc", 3, d);
	hex_is(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256("", 0, d);
	hex_is(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* RFC 4231 test cases 1 and 2: the webhook signature primitive. */
static void test_hmac_sha256(void **state)
{
	(void)state;
	unsigned char key[20], mac[32];
	memset(key, 0x0b, sizeof key);
	crypto_hmac_sha256(key, sizeof key, "Hi There", 8, mac);
	hex_is(mac, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	hex_is(mac, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_password(void **state)
{
	(void)state;
	char *h = crypto_password_hash("correct horse battery", 0);
	assert_true(strncmp(h, "pbkdf2-sha256$600000$", 21) == 0);
	assert_true(crypto_password_verify("correct horse battery", h));
	assert_false(crypto_password_verify("correct horse batterY", h));
	assert_false(crypto_password_verify("", h));
	char *h2 = crypto_password_hash("correct horse battery", 0);
	assert_string_not_equal(h, h2); /* a fresh salt every time */
	/* malformed stored hashes never verify */
	assert_false(crypto_password_verify("x", NULL));
	assert_false(crypto_password_verify("x", ""));
	assert_false(crypto_password_verify("x", "pbkdf2-sha256$10$AAAA$AAAA"));
	assert_false(crypto_password_verify("x", "md5$abc"));
	assert_false(crypto_password_verify(
	    "x", "pbkdf2-sha256$600000$!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	free(h);
	free(h2);
}

static void test_tokens(void **state)
{
	(void)state;
	char *a = crypto_token_new("scrm_"), *b = crypto_token_new("scrm_");
	assert_int_equal(strlen(a), 5 + 43);
	assert_true(strncmp(a, "scrm_", 5) == 0);
	assert_string_not_equal(a, b);
	for (const char *p = a + 5; *p; p++)
		assert_non_null(
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
	char *pw = crypto_password_generate();
	assert_int_equal(strlen(pw), 24);
	free(a);
	free(b);
	free(pw);
}

static void test_random_below(void **state)
{
	(void)state;
	unsigned counts[6] = {0};
	for (int i = 0; i < 60000; i++) {
		uint64_t v = crypto_random_below(6);
		assert_true(v < 6);
		counts[v]++;
	}
	for (int i = 0; i < 6; i++) /* 10000 expected; 5 sigma is about 460 */
		assert_true(counts[i] > 9400 && counts[i] < 10600);
	assert_int_equal(crypto_random_below(1), 0);
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(crypto_equal("abcdef", "abcdef", 6));
	assert_false(crypto_equal("abcdef", "abcdeg", 6));
	char secret[8] = "secret!";
	crypto_wipe(secret, sizeof secret);
	for (size_t i = 0; i < sizeof secret; i++)
		assert_int_equal(secret[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256),       cmocka_unit_test(test_hmac_sha256),
	    cmocka_unit_test(test_password),     cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_random_below), cmocka_unit_test(test_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
