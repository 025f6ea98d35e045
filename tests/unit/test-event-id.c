/*
 * test-event-id.c: golden vectors pin the event id. If one of these changes,
 * every event re-scanned after an upgrade gets a new id and is counted twice:
 * never "fix" a vector, fix the code. Vectors were computed independently with
 * Python's hashlib: sha256(b"aimeter/v1\0" + tool + b"\0" + key)[:16].
 */
#include "event_id.h"
#include "test.h"

static void
check(const char *tool, const char *key, const char *want)
{
	uint8_t id[16];
	char hex[33];

	am_event_id(tool, key, strlen(key), id);
	am_event_id_hex(id, hex);
	ASSERT_STR_EQ(hex, want);
}

TEST(claude_message_id)
{
	check("claude-code", "msg_01XFDUDYJgAACzvnptvVoYEL", "0067969353f160be5b5ae42fbe50637b");
}

TEST(claude_fallback_line_key)
{
	check("claude-code",
	      "line:projects/-home-dev-shop-api/7d0c5e9e.jsonl#5b1e0c2a-0000-4000-8000-0000000000d1",
	      "8c49d88d77ee0ca6a1ee55b452974ec4");
}

TEST(codex_token_count)
{
	char key[128];

	am_codex_dedup_key("2026-09-15T08:31:12.400Z", 22000, 11000, 900, 500, 22900, key,
			   sizeof(key));
	ASSERT_STR_EQ(key, "2026-09-15T08:31:12.400Z|22000|11000|900|500|22900");
	check("codex", key, "9c7fb1ce8078b7bea8cbcaab4a5b472f");
}

TEST(empty_key)
{
	check("codex", "", "b1433a14b2cb1990a9cf8c7f8bd041df");
}

TEST(tool_is_part_of_the_id)
{
	uint8_t a[16], b[16];

	am_event_id("claude-code", "k", 1, a);
	am_event_id("codex", "k", 1, b);
	ASSERT(memcmp(a, b, 16) != 0);
}

int
main(void)
{
	RUN(claude_message_id);
	RUN(claude_fallback_line_key);
	RUN(codex_token_count);
	RUN(empty_key);
	RUN(tool_is_part_of_the_id);
	return 0;
}
