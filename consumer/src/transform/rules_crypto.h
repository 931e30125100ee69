/*
 * rules_crypto.h: the rows of operations of hash, tokenize, encrypt and
 * decrypt (rules_crypto.c); private to the rule engine.
 */
#ifndef TRIB_RULES_CRYPTO_H
#define TRIB_RULES_CRYPTO_H

#include "rules_common.h"

extern const rl_ops rl_ops_hash;
extern const rl_ops rl_ops_tokenize;
extern const rl_ops rl_ops_encrypt;
extern const rl_ops rl_ops_decrypt;

#endif							/* TRIB_RULES_CRYPTO_H */
