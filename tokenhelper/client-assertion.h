/* SPDX-License-Identifier: MIT */
#ifndef MB_CLIENT_ASSERTION_H
#define MB_CLIENT_ASSERTION_H

/* Certificate credentials for the client credentials grant: the RFC 7523
 * client assertion, a JWT signed with RS256 by the client's private key.
 * The only file that uses libcrypto; it also signs the assertions of
 * Google service accounts. */

#include <time.h>

#include "conf.h"

/* The client_assertion_type that goes with it. */
#define MB_CLIENT_ASSERTION_TYPE \
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/* Lifetime of one assertion: it is used at once, for one request. */
#define MB_CLIENT_ASSERTION_LIFETIME 300

/*
 * Builds the assertion for acct (client_certificate_file and
 * client_key_file set) at time now:
 *   header  {"alg":"RS256","typ":"JWT","x5t":..,"x5t#S256":..}
 *           (base64url SHA-1 and SHA-256 thumbprints of the certificate,
 *           as Microsoft identifies the registered certificate by them)
 *   payload {"aud":token_endpoint,"iss":client_id,"sub":client_id,
 *            "jti":<128 random bits>,"iat":now,"nbf":now,
 *            "exp":now+MB_CLIENT_ASSERTION_LIFETIME}
 * The key file is read now, refused if group or others may read it, and
 * wiped from memory after signing.  A certificate that has expired or is
 * not yet valid, or that does not belong to the key, is refused here,
 * before any request.  Returns the malloc'd JWT (a credential: wipe it),
 * or NULL with *error_r a malloc'd, secret-free sentence.
 */
char *mb_client_assertion(const struct mb_account *acct, time_t now,
			  char **error_r);

/* Google service accounts (flow = service_account): the RFC 7523 JWT
 * bearer grant's assertion, at most one hour long. */
#define MB_SA_GRANT_TYPE "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define MB_SA_ASSERTION_LIFETIME 3600

/* The claims set of a service account's assertion:
 *   {"iss":iss,"sub":sub,"scope":scope,"aud":aud,"iat":now,
 *    "exp":now+MB_SA_ASSERTION_LIFETIME}
 * (malloc'd JSON text; no secret). */
char *mb_sa_claims(const char *iss, const char *sub, const char *scope,
		   const char *aud, time_t now);

/*
 * Builds the assertion for acct (service_account_file set) at time now:
 * header {"alg":"RS256","typ":"JWT","kid":private_key_id}, the claims of
 * mb_sa_claims(client_email, user, scope, token_endpoint, now) (a key
 * whose token_uri is another endpoint is used with a warning).  The key
 * file is read now (regular, refused if group or others may read it),
 * parsed strictly as JSON of "type":"service_account", its private_key
 * must be an unencrypted RSA key, and the key material is wiped after
 * signing.  Returns the malloc'd JWT (a credential: wipe it), or NULL
 * with *error_r a malloc'd, secret-free sentence.
 */
char *mb_sa_assertion(const struct mb_account *acct, time_t now,
		      char **error_r);

#endif
