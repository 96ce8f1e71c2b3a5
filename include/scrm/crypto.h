/* crypto.h - the OpenSSL-backed primitives the daemon needs: randomness, SHA-256,
 * HMAC, constant-time comparison, encodings and password hashing. */
#ifndef SCRM_CRYPTO_H
#define SCRM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_PBKDF2_MIN_ITER 600000u

/* Fill buf with cryptographically strong random bytes; aborts if the CSPRNG fails
 * (a server that cannot get randomness must not hand out tokens). */
void crypto_random(void *buf, size_t n);
/* Uniform random integer in [0, bound) without modulo bias; bound > 0. */
uint64_t crypto_random_below(uint64_t bound);

void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
/* The same over data given in pieces: begin, add any number of times, end
 * (which frees the state). */
struct crypto_sha256_state;
struct crypto_sha256_state *crypto_sha256_begin(void);
void crypto_sha256_add(struct crypto_sha256_state *s, const void *data, size_t n);
void crypto_sha256_end(struct crypto_sha256_state *s, unsigned char out[CRYPTO_SHA256_LEN]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                        unsigned char out[CRYPTO_SHA256_LEN]);
/* Constant-time equality of two equal-length buffers. */
bool crypto_equal(const void *a, const void *b, size_t n);
/* Wipe memory that held a secret. */
void crypto_wipe(void *p, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void crypto_hex(const unsigned char *in, size_t n, char *out);
/* base64url without padding; out needs crypto_b64url_len(n)+1 bytes. */
size_t crypto_b64url_len(size_t n);
void crypto_b64url_encode(const unsigned char *in, size_t n, char *out);
/* Decode base64url (no padding). Returns decoded length or -1 on bad input or if
 * it would not fit in cap bytes. */
long crypto_b64url_decode(const char *in, unsigned char *out, size_t cap);

/* A new random secret token: prefix followed by 43 base64url characters (256 bits).
 * Caller owns the string. */
char *crypto_token_new(const char *prefix);

/* Hash a password as "pbkdf2-sha256$<iter>$<salt b64url>$<hash b64url>".
 * iterations below CRYPTO_PBKDF2_MIN_ITER are raised to it. Caller owns it. */
char *crypto_password_hash(const char *password, unsigned iterations);
/* Verify against a stored hash; false on mismatch or malformed hash. Runs in time
 * independent of where a mismatch occurs. */
bool crypto_password_verify(const char *password, const char *stored);
/* A fresh printable password (for the generated first admin). Caller owns it. */
char *crypto_password_generate(void);

#endif
