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

/* origin_claude_billing(root): "subscription", "api", "cloud" or "unknown". */
const char *origin_claude_billing(const char *root);

/* origin_codex_billing(home): "subscription", "api" or "unknown". */
const char *origin_codex_billing(const char *home);

/* origin_claude_account(root, ret_buf, size): the account email. 0 or -ENOENT. */
int origin_claude_account(const char *root, char *ret_buf, size_t size);

#endif
