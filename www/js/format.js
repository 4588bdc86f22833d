// Human formats for times, durations and countdowns.

export function formatTime(unixSeconds) {
  if (!Number.isFinite(unixSeconds) || unixSeconds <= 0) return '—';
  return new Date(unixSeconds * 1000).toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d} d ${h} h ${m} min`;
  if (h > 0) return `${h} h ${m} min ${sec} s`;
  if (m > 0) return `${m} min ${sec} s`;
  return `${sec} s`;
}

/** "in 3 h 2 min 5 s" or "expired 4 min 1 s ago", relative to now. */
export function formatCountdown(unixSeconds, nowMs = Date.now()) {
  const left = unixSeconds - nowMs / 1000;
  return left >= 0 ? `in ${formatDuration(left)}` : `expired ${formatDuration(-left)} ago`;
}

/** YYYY-MM-DD of a unix time in the browser's time zone. */
export function localDay(unixSeconds) {
  const d = new Date(unixSeconds * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Who a record's caller called: Tencent lists the caller among the callees. */
export function formatCalled(record) {
  const others = record.callees.filter((c) => c !== record.caller);
  return (others.length ? others : record.callees).join(', ');
}
