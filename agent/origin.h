/*
 * origin.h: whose events a root holds and how they are billed, from the AI
 * tools' own account files (read for one or two keys, never copied out).
 *
 * Billing mode: Claude: an OAuth login (".credentials.json" claudeAiOauth,
 * or oauthAccount in .claude.json) is "subscription", a primaryApiKey or
 * ANTHROPIC_API_KEY is "api", CLAUDE_CODE_USE_BEDROCK/VERTEX is "cloud".
 * Codex: auth.json with an OPENAI_API_KEY is "api", with ChatGPT tokens
 * "subscription". Anything else is "unknown". Bedrock and Vertex model ids
 * mark single events "cloud" (scan.c).
 */
#ifndef AM_AGENT_ORIGIN_H
#define AM_AGENT_ORIGIN_H

#include <stddef.h>

#include "owned.h"

/*
 * The account files are opened under o (see owned.h; NULL: as usual), so in
 * all-users mode a user cannot lend themselves another user's account or
 * billing mode with a symbolic link.
 */

/* origin_claude_billing(root, o): "subscription", "api", "cloud" or "unknown". */
const char *origin_claude_billing(const char *root, const struct owned *o);

/* origin_codex_billing(home, o): "subscription", "api" or "unknown". */
const char *origin_codex_billing(const char *home, const struct owned *o);

/* origin_claude_account(root, o, ret_buf, size): the account email. 0 or -ENOENT. */
int origin_claude_account(const char *root, const struct owned *o, char *ret_buf, size_t size);

#endif
