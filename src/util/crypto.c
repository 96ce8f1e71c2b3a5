/* crypto.c - thin, careful wrappers over OpenSSL. */
#include "scrm/crypto.h"

#include "scrm/log.h"
#include "scrm/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void crypto_random(void *buf, size_t n)
{
	if (n == 0)
		return;
	if (RAND_bytes(buf, (int)n) != 1) {
		log_error("OpenSSL RAND_bytes failed; refusing to continue without randomness");
		abort();
	}
}

uint64_t crypto_random_below(uint64_t bound)
{
	/* Reject the top partial range so that every value is equally likely. */
	uint64_t limit = UINT64_MAX - (UINT64_MAX % bound), v;
	do
		crypto_random(&v, sizeof v);
	while (v >= limit);
	return v % bound;
}

void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;
	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1)
		abort();
}

struct crypto_sha256_state *crypto_sha256_begin(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		abort();
	return (struct crypto_sha256_state *)c;
}

void crypto_sha256_add(struct crypto_sha256_state *s, const void *data, size_t n)
{
	if (EVP_DigestUpdate((EVP_MD_CTX *)s, data, n) != 1)
		abort();
}

void crypto_sha256_end(struct crypto_sha256_state *s, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;
	if (EVP_DigestFinal_ex((EVP_MD_CTX *)s, out, &len) != 1)
		abort();
	EVP_MD_CTX_free((EVP_MD_CTX *)s);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                        unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len))
		abort();
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_wipe(void *p, size_t n)
{
	if (p)
		OPENSSL_cleanse(p, n);
}

void crypto_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t crypto_b64url_len(size_t n)
{
	return (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void crypto_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
		out[o++] = b64u[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
	}
	out[o] = '\0';
}

static int b64u_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long crypto_b64url_decode(const char *in, unsigned char *out, size_t cap)
{
	size_t n = strlen(in), o = 0;
	if (n % 4 == 1)
		return -1;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64u_val(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* leftover bits must be zero, or two texts would decode alike */
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	return (long)o;
}

char *crypto_token_new(const char *prefix)
{
	unsigned char raw[32];
	char enc[64];
	crypto_random(raw, sizeof raw);
	crypto_b64url_encode(raw, sizeof raw, enc);
	crypto_wipe(raw, sizeof raw);
	char *t = xasprintf("%s%s", prefix ? prefix : "", enc);
	crypto_wipe(enc, sizeof enc);
	return t;
}

#define SALT_LEN 16
#define DK_LEN 32

char *crypto_password_hash(const char *password, unsigned iterations)
{
	unsigned char salt[SALT_LEN], dk[DK_LEN];
	char salt64[32], dk64[64];
	if (iterations < CRYPTO_PBKDF2_MIN_ITER)
		iterations = CRYPTO_PBKDF2_MIN_ITER;
	crypto_random(salt, sizeof salt);
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, (int)iterations,
	                      EVP_sha256(), sizeof dk, dk) != 1)
		abort();
	crypto_b64url_encode(salt, sizeof salt, salt64);
	crypto_b64url_encode(dk, sizeof dk, dk64);
	crypto_wipe(dk, sizeof dk);
	return xasprintf("pbkdf2-sha256$%u$%s$%s", iterations, salt64, dk64);
}

bool crypto_password_verify(const char *password, const char *stored)
{
	unsigned iter;
	char salt64[64], dk64[128];
	unsigned char salt[48], want[64], got[64];
	if (!stored || sscanf(stored, "pbkdf2-sha256$%u$%63[^$]$%127s", &iter, salt64, dk64) != 3)
		return false;
	if (iter < 1000 || iter > 100000000)
		return false;
	long sl = crypto_b64url_decode(salt64, salt, sizeof salt);
	long wl = crypto_b64url_decode(dk64, want, sizeof want);
	if (sl < 8 || wl < 16)
		return false;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)sl, (int)iter,
	                      EVP_sha256(), (int)wl, got) != 1)
		return false;
	bool ok = crypto_equal(got, want, (size_t)wl);
	crypto_wipe(got, sizeof got);
	return ok;
}

char *crypto_password_generate(void)
{
	/* 18 random bytes -> 24 characters of base64url: 144 bits, easy to copy */
	unsigned char raw[18];
	char *out = xmalloc(32);
	crypto_random(raw, sizeof raw);
	crypto_b64url_encode(raw, sizeof raw, out);
	crypto_wipe(raw, sizeof raw);
	return out;
}
