#!/usr/bin/env python3
"""realtools_otlp_tools.py: the real Codex, Gemini CLI and Copilot CLI's own OpenTelemetry.

The pinned Codex, Gemini CLI and Copilot CLI (realtools.py installs them) run headless against
their loopback model API stand-ins (standin.py), each with its OTLP/HTTP exporters pointed at a
real aimeter-collector with an `aimeterctl otlp-token` bearer: Codex through the `[otel]` table
of its config.toml (protocol json for logs, binary for metrics, TLS with the test CA), Gemini
CLI through the "telemetry" object of its settings.json (otlpProtocol http: OTLP/JSON, chunked,
TLS), Copilot CLI (BYOK provider, as canary_copilot.py) through COPILOT_OTEL_ENABLED and the
standard OTEL_EXPORTER_OTLP_* variables (GenAI spans on /v1/traces, to the collector's plain
listener: no way to give its Rust exporter the test CA was tried). With prompt logging switched on where the
tool has it: the collector must drop it anyway. Then per tool and model the database's usage
(calls, input, output, cache read and cache write tokens) must equal what the stand-in billed,
each tool call of the scripts (Copilot's as an execute_tool span) is one action record of the
right tool, kind and decision, and no prompt, reply, command, path or email is in the database
or the collector's log. Failures to install or run are failures, never skips. Needs the
PostgreSQL of tests/run and AM_COLLECTOR, AM_CTL, AM_TOOL (meson sets them).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import realtools  # noqa: E402  (install_tools, run, base_env)
import realtools_otlp  # noqa: E402  (the harness, db_usage, db_actions, billed)
import standin  # noqa: E402

h = realtools_otlp.h

USER = "rt-otlp-tools@example.com"
GEMINI_MODEL = "gemini-2.5-pro"


def codex(bindir, home, port, endpoint, token, ca):
    """Codex exec: a plain turn and a shell tool round trip, exporting logs and metrics."""
    ch = os.path.join(home, ".codex")
    work = os.path.join(home, "codex-project")
    os.makedirs(ch)
    os.makedirs(work)

    def exporter(path, protocol):
        return ('{ otlp-http = { endpoint = "%s/v1/%s", protocol = "%s", headers = { '
                '"Authorization" = "Bearer %s" }, tls = { ca-certificate = "%s" } } }'
                % (endpoint, path, protocol, token, ca))

    with open(os.path.join(ch, "config.toml"), "w") as f:
        f.write('model = "%s"\nmodel_provider = "amrt"\ncheck_for_update_on_startup = false\n\n'
                '[analytics]\nenabled = false\n\n'
                '[otel]\nenvironment = "amrt"\nlog_user_prompt = true\n'
                'exporter = %s\nmetrics_exporter = %s\ntrace_exporter = "none"\n\n'
                '[model_providers.amrt]\nname = "aimeter stand-in"\n'
                'base_url = "http://127.0.0.1:%d/v1"\nwire_api = "responses"\n'
                'env_key = "AMRT_OPENAI_KEY"\n'
                % (realtools.CODEX_MODELS[0], exporter("logs", "json"),
                   exporter("metrics", "binary"), port))
    env = realtools.base_env(home)
    # No ChatGPT account: the identity comes from the resource, as for Claude Code.
    env.update({"CODEX_HOME": ch, "AMRT_OPENAI_KEY": "sk-amrt-dummy",
                "OTEL_RESOURCE_ATTRIBUTES": "user.email=" + USER})
    argv = [os.path.join(bindir, "codex"), "exec", "--skip-git-repo-check"]
    p = standin.SECRET_PROMPT
    realtools.run(argv + [p + " say hi"], env, work, "codex over OTLP")
    realtools.run(argv + ["-m", realtools.CODEX_MODELS[1], p + " AMRT-TOOL run it"], env, work,
                  "codex over OTLP, shell round trip")


def gemini(bindir, home, port, endpoint, token, ca):
    """Gemini CLI -p: a plain turn and a shell tool round trip (--yolo), exporting OTLP/JSON."""
    gem = os.path.join(home, ".gemini")
    work = os.path.join(home, "gemini-project")
    os.makedirs(gem)
    os.makedirs(work)
    with open(os.path.join(gem, "settings.json"), "w") as f:
        json.dump({"security": {"auth": {"selectedType": "gemini-api-key"}},
                   "privacy": {"usageStatisticsEnabled": False},
                   "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
                   "telemetry": {"enabled": True, "target": "local", "otlpEndpoint": endpoint,
                                 "otlpProtocol": "http", "logPrompts": True}}, f)
    env = realtools.base_env(home)
    env.update({"GEMINI_API_KEY": "amrt-dummy", "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:%d" % port,
                "GEMINI_CLI_TRUST_WORKSPACE": "true", "NO_COLOR": "1",
                # The OpenTelemetry JS exporters read their headers from the environment.
                "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer " + token,
                "OTEL_RESOURCE_ATTRIBUTES": "user.email=" + USER,
                "NODE_EXTRA_CA_CERTS": ca})
    argv = [os.path.join(bindir, "gemini"), "-m", GEMINI_MODEL, "--output-format", "json", "-p"]
    p = standin.SECRET_PROMPT
    realtools.run(argv + [p + " say hi"], env, work, "gemini over OTLP")
    realtools.run(argv + [p + " AMRT-TOOL run it", "--yolo"], env, work,
                  "gemini over OTLP, shell round trip")


def copilot(bindir, home, port, endpoint, token):
    """Copilot CLI -p: a plain turn and a shell tool round trip, exporting OTLP/JSON spans."""
    import canary_copilot
    work = os.path.join(home, "copilot-project")
    os.makedirs(work)
    env = realtools.base_env(home)
    env.update({"COPILOT_PROVIDER_BASE_URL": "http://127.0.0.1:%d/v1" % port,
                "COPILOT_PROVIDER_TYPE": "openai", "COPILOT_PROVIDER_API_KEY": "sk-amrt-dummy",
                "COPILOT_OFFLINE": "1", "COPILOT_AUTO_UPDATE": "false", "NO_COLOR": "1",
                "COPILOT_OTEL_ENABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer " + token,
                "OTEL_RESOURCE_ATTRIBUTES": "user.email=" + USER})
    argv = [os.path.join(bindir, "copilot"), "--allow-all-tools", "--model",
            canary_copilot.MODELS[0], "-p"]
    p = standin.SECRET_PROMPT
    realtools.run(argv + [p + " say hi"], env, work, "copilot over OTLP")
    realtools.run(argv + [p + " AMRT-TOOL run it"], env, work, "copilot over OTLP, shell round trip")


def wait_for(what, fn, want):
    """The exporters batch and flush on exit: allow the last commits to land."""
    deadline = time.time() + 30
    while time.time() < deadline and fn() != want:
        time.sleep(0.5)
    got = fn()
    realtools.log("%s: want %s, stored %s" % (what, want, got))
    return got


def main():
    bindir = realtools.install_tools()
    realtools.log("testing @openai/codex@%s, @google/gemini-cli@%s and @github/copilot@%s over "
                  "OTLP" % tuple(realtools.package_version(bindir, p) for p in (
                      "@openai/codex", "@google/gemini-cli", "@github/copilot")))
    w = h.setup("rt_otlp_tools")
    col = h.Collector(w, plain=True)
    r = subprocess.run([h.CTL, "otlp-token", "create", "--name", "rt-tools"], env=h.pg_env(w),
                       capture_output=True, text=True)
    if r.returncode != 0:
        h.fail("otlp-token create: " + r.stderr)
    token = r.stdout.strip()
    endpoint = "https://localhost:%d" % col.port
    ledger = standin.Ledger()
    servers = [standin.serve(standin.OpenAIHandler, ledger),
               standin.serve(standin.GeminiHandler, ledger),
               standin.serve(standin.ChatCompletionsHandler, ledger, tool_name="copilot-cli",
                             subagent="general-purpose")]
    home = tempfile.mkdtemp(prefix="am-rt-otlp-tools-")
    try:
        codex(bindir, home, servers[0][1], endpoint, token, w.p("ca.pem"))
        gemini(bindir, home, servers[1][1], endpoint, token, w.p("ca.pem"))
        copilot(bindir, home, servers[2][1], "http://127.0.0.1:%d" % col.plain_port, token)
        for tool in ("codex", "gemini-cli", "copilot-cli"):
            want = realtools_otlp.billed(ledger, tool)
            h.check(sum(v[0] for v in want.values()) >= 2, "%s: the stand-in billed %s"
                    % (tool, want))
            got = wait_for(tool + " usage (calls, input, output, cache read, cache write)",
                           lambda: realtools_otlp.db_usage(w, tool), want)
            h.check(got == want, "%s: the database's usage equals what the model server billed"
                    % tool)
        # One shell call each, run and accepted; nothing else of the scripts calls a tool.
        for tool, name in (("codex", "exec_command"), ("gemini-cli", "run_shell_command"),
                           ("copilot-cli", "bash")):
            want = "%s|shell|accepted|1" % name
            got = wait_for(tool + " actions", lambda: realtools_otlp.db_actions(w, tool), want)
            h.check(got == want, "%s: the shell round trip is one accepted shell action" % tool)
        counters = h.psql(w, "SELECT tool, metric, kind, value FROM aimeter.otlp_counters_daily "
                             "ORDER BY 1, 2, 3")
        realtools.log("counters kept from the tools' metrics:\n" + counters)
        keys = h.psql(w, "SELECT DISTINCT coalesce(encode(person_key, 'hex'), 'none') "
                         "FROM aimeter.usage_events")
        h.check(len(keys.split()) == 1 and keys != "none",
                "every call carries the one identity's HMAC (%s)" % keys[:16])
        dump = subprocess.run(["pg_dump", "--data-only"], env=h.pg_env(w), capture_output=True,
                              text=True).stdout
        leaked = [m for m in (standin.SECRET_PROMPT, standin.SECRET_REPLY, "AMRT-", "echo hi", USER,
                              home) if m in dump or m in col.log()]
        h.check(not leaked, "no prompt, reply, command, path or email in the database or log (%s)"
                % leaked)
        col.stop()
    finally:
        for srv, _ in servers:
            srv.shutdown()
        shutil.rmtree(home, ignore_errors=True)
    print("realtools-otlp-tools: all checks passed")


if __name__ == "__main__":
    main()
