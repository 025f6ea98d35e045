// drive.cjs: the real OpenTelemetry JS SDK (sdk-metrics, sdk-logs) and its OTLP/HTTP
// exporters (http/json or http/protobuf), driven one JSON command a line on stdin;
// one JSON answer a line on stdout. test-otlp-sdk.py runs it with NODE_PATH at the pinned
// packages (package-lock.json beside this file).
//
// Commands:
//   {"op":"start","protocol":"json"|"protobuf","temporality":"cumulative"|"delta",
//    "gzip":bool,"url":...,"token":...}   a new MeterProvider and LoggerProvider: a new
//                                          start time, so cumulative counters restart at 0
//   {"op":"record","seed":n,"n":k}         k measurements per counter and k api_request
//                                          log records, tallied here
//   {"op":"flush"}                         forceFlush both; answers each export's result
//   {"op":"stop"}                          shutdown both providers
// Every answer carries "tally": what this script recorded, all instances together.
"use strict";

const readline = require("readline");
const { MeterProvider, PeriodicExportingMetricReader } = require("@opentelemetry/sdk-metrics");
const { LoggerProvider, BatchLogRecordProcessor } = require("@opentelemetry/sdk-logs");
const { resourceFromAttributes, defaultResource } = require("@opentelemetry/resources");
const metricsHttp = require("@opentelemetry/exporter-metrics-otlp-http");
const metricsProto = require("@opentelemetry/exporter-metrics-otlp-proto");
const logsHttp = require("@opentelemetry/exporter-logs-otlp-http");
const logsProto = require("@opentelemetry/exporter-logs-otlp-proto");

const EMAIL = "sdk-user@example.com";
const LOC = "claude_code.lines_of_code.count";
const COMMITS = "claude_code.commit.count";
const PRS = "claude_code.pull_request.count";
// Generous: a retried export waits out Retry-After within this deadline.
const EXPORT_TIMEOUT_MS = 60000;

const tally = { counters: {}, calls: 0, input: 0, output: 0, cache_read: 0, cache_creation: 0 };
let cur = null; // { meters, logs, counters, logger, results, instance }
let instances = 0;
let requestSeq = 0;

function addTally(metric, kind, v) {
	const k = metric + "|" + kind;
	tally.counters[k] = (tally.counters[k] || 0) + v;
}

// Small deterministic generator (mulberry32): the same seed, the same workload.
function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

// The exporter's own result for every export, so the test sees failures.
function watched(exporter, signal, results) {
	return {
		export(items, done) {
			exporter.export(items, (r) => {
				results.push({ signal, code: r.code, error: r.error ? String(r.error) : undefined });
				done(r);
			});
		},
		forceFlush: () => exporter.forceFlush(),
		shutdown: () => exporter.shutdown(),
		selectAggregationTemporality: exporter.selectAggregationTemporality
			? (t) => exporter.selectAggregationTemporality(t) : undefined,
		selectAggregation: exporter.selectAggregation
			? (t) => exporter.selectAggregation(t) : undefined,
	};
}

function start(c) {
	const base = c.url.replace(/\/$/, "");
	const common = {
		headers: { Authorization: "Bearer " + c.token },
		timeoutMillis: EXPORT_TIMEOUT_MS,
		compression: c.gzip ? "gzip" : "none",
	};
	const proto = c.protocol === "protobuf";
	const M = proto ? metricsProto : metricsHttp;
	const L = proto ? logsProto : logsHttp;
	const temporality = c.temporality === "delta"
		? metricsHttp.AggregationTemporalityPreference.DELTA
		: metricsHttp.AggregationTemporalityPreference.CUMULATIVE;
	const results = [];
	const mexp = new M.OTLPMetricExporter({ ...common, url: base + "/v1/metrics",
		temporalityPreference: temporality });
	const lexp = new L.OTLPLogExporter({ ...common, url: base + "/v1/logs" });
	const resource = defaultResource().merge(resourceFromAttributes({
		"service.name": "claude-code", "service.version": "sdk-test", "user.email": EMAIL,
	}));
	const reader = new PeriodicExportingMetricReader({
		exporter: watched(mexp, "metrics", results),
		exportIntervalMillis: 3600 * 1000, exportTimeoutMillis: EXPORT_TIMEOUT_MS + 5000,
	});
	const meters = new MeterProvider({ resource, readers: [reader] });
	const logs = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({
		exporter: watched(lexp, "logs", results), scheduledDelayMillis: 3600 * 1000,
		maxExportBatchSize: 512, maxQueueSize: 100000,
		exportTimeoutMillis: EXPORT_TIMEOUT_MS + 5000 })] });
	const meter = meters.getMeter("com.anthropic.claude_code");
	instances++;
	cur = {
		meters, logs, results, instance: instances,
		logger: logs.getLogger("com.anthropic.claude_code"),
		loc: meter.createCounter(LOC), commits: meter.createCounter(COMMITS),
		prs: meter.createCounter(PRS),
	};
}

function record(c) {
	const r = rng(c.seed);
	const session = "sdk-session-" + cur.instance;
	for (let i = 0; i < c.n; i++) {
		const model = r() < 0.5 ? "claude-sonnet-4-5" : "claude-haiku-4-5";
		const added = 1 + Math.floor(r() * 50), removed = Math.floor(r() * 20);
		cur.loc.add(added, { type: "added", model });
		cur.loc.add(removed, { type: "removed", model });
		addTally(LOC, "added", added);
		addTally(LOC, "removed", removed);
		if (r() < 0.4) {
			cur.commits.add(1, {});
			addTally(COMMITS, "", 1);
		}
		if (r() < 0.1) {
			cur.prs.add(1, {});
			addTally(PRS, "", 1);
		}
		requestSeq++;
		const call = {
			input: 1 + Math.floor(r() * 5000), output: 1 + Math.floor(r() * 900),
			cache_read: Math.floor(r() * 20000), cache_creation: Math.floor(r() * 3000),
		};
		cur.logger.emit({
			body: "claude_code.api_request",
			attributes: {
				"event.name": "api_request", "session.id": session,
				"event.sequence": requestSeq, "request_id": "req_sdk_" + requestSeq,
				"model": model, "input_tokens": call.input, "output_tokens": call.output,
				"cache_read_tokens": call.cache_read,
				"cache_creation_tokens": call.cache_creation, "cost_usd": 0.0125,
				"duration_ms": 800 + i,
			},
		});
		tally.calls++;
		for (const k of Object.keys(call)) {
			tally[k] += call[k];
		}
	}
}

async function handle(c) {
	switch (c.op) {
	case "start":
		start(c);
		return {};
	case "record":
		record(c);
		return {};
	case "flush": {
		const before = cur.results.length;
		// Together, so both signals meet whatever the collector answers at that moment.
		await Promise.all([cur.logs.forceFlush(), cur.meters.forceFlush()]);
		return { results: cur.results.slice(before) };
	}
	case "stop": {
		const before = cur.results.length;
		await cur.logs.shutdown();
		await cur.meters.shutdown();
		const res = cur.results.slice(before);
		cur = null;
		return { results: res };
	}
	default:
		throw new Error("unknown op " + c.op);
	}
}

async function main() {
	const rl = readline.createInterface({ input: process.stdin, terminal: false });
	for await (const line of rl) {
		if (!line.trim()) {
			continue;
		}
		let out;
		try {
			out = await handle(JSON.parse(line));
			out.ok = true;
		} catch (e) {
			out = { ok: false, error: String(e && e.stack || e) };
		}
		out.tally = tally;
		process.stdout.write(JSON.stringify(out) + "\n");
	}
}

main();
