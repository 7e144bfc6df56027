/* SPDX-License-Identifier: MIT */
#ifndef MB_CLIENT_ASSERTION_H
#define MB_CLIENT_ASSERTION_H

/* Certificate credentials for the client credentials grant: the RFC 7523
 * client assertion, a JWT signed with RS256 by the client's private key.
 * The only file that uses libcrypto. */

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

#endif
