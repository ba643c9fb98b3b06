-- wrk reporter: one machine-readable line per run.
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("wrk rps=%.0f p50_us=%d p99_us=%d requests=%d errors=%d\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(99), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status +
    summary.errors.timeout))
end
