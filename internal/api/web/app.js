// The page of `coordinator serve`: plain JavaScript over /api/v1.
"use strict";
const $ = (id) => document.getElementById(id);
let current = { query: "", page: 1, data: null };
let view = "0.0.0.0/0";

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const t = sessionStorage.getItem("token");
  if (t) h["Authorization"] = "Bearer " + t;
  return h;
}

async function api(path, opts) {
  opts = opts || {};
  opts.headers = headers(opts.headers);
  const r = await fetch(path, opts);
  if (r.status === 401) { $("token-box").hidden = false; }
  return r;
}

$("token").addEventListener("change", (e) => { sessionStorage.setItem("token", e.target.value); refreshScans(); });

function cell(text, mono) {
  const td = document.createElement("td");
  td.textContent = text;
  if (mono) td.className = "mono";
  return td;
}

async function search(page) {
  const q = $("query").value.trim();
  $("search-error").hidden = true;
  const r = await api("/api/v1/ips/list", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ query: q, page: page }) });
  const body = await r.json();
  if (!r.ok) {
    let msg = body.error;
    if (body.position) msg += "\n" + q + "\n" + " ".repeat(body.position - 1) + "^";
    $("search-error").textContent = msg;
    $("search-error").hidden = false;
    $("results").hidden = true; $("pager").hidden = true;
    $("search-summary").textContent = "";
    return;
  }
  current = { query: q, page: body.meta.page, data: body };
  const tb = $("results").querySelector("tbody");
  tb.replaceChildren();
  for (const rec of body.records) {
    const tr = document.createElement("tr");
    tr.append(lookupCell(rec.ip), cell(rec.ptr, true), cell(rec.status), cell(rec.asn ? "AS" + rec.asn : ""), cell(rec.country), cell(rec.fcrdns), cell(rec.scan));
    tb.append(tr);
  }
  $("search-summary").textContent = body.record_count + " records · " + body.meta.query;
  $("search-summary").dataset.count = body.record_count;
  $("results").hidden = false;
  $("pager").hidden = false;
  $("page-info").textContent = "page " + body.meta.page + " of " + body.meta.max_page;
  $("prev").disabled = body.meta.page <= 1;
  $("next").disabled = body.meta.page >= body.meta.max_page;
  setDownloads(body);
  showError("download-error", "");
  if (page === 1 && groupBy) showGroups(groupBy);
  if ($("highlight").checked) showMap();
}

// showError shows msg in the error line id, or hides it when msg is empty.
function showError(id, msg) {
  $(id).textContent = msg || "";
  $(id).hidden = !msg;
}

// save downloads the answer of path as a file, or shows its error in
// the error line errId (such as the bound of rows a download holds).
async function save(path, errId) {
  showError(errId, "");
  const r = await api(path);
  if (!r.ok) {
    let msg = "download failed: HTTP " + r.status;
    try { msg = "download: " + (await r.json()).error; } catch (e) { /* not JSON */ }
    showError(errId, msg);
    return;
  }
  let name = "ptrsweep";
  const m = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "");
  if (m) name = m[1];
  let blob;
  try { blob = await r.blob(); } catch (e) { showError(errId, "download interrupted: " + e); return; }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function queryPath(path, params) {
  return path + "?" + new URLSearchParams(params).toString();
}

function setDownloads(body) {
  $("dl-json").onclick = () => save(queryPath("/api/v1/ips/download", { query: current.query, format: "json" }), "download-error");
  $("dl-csv").onclick = () => save(queryPath("/api/v1/ips/download", { query: current.query, format: "csv" }), "download-error");
  $("dl-json").title = $("dl-csv").title = "all " + body.record_count + " records, not only this page";
}

$("search-form").addEventListener("submit", (e) => { e.preventDefault(); search(1); });
$("prev").addEventListener("click", () => search(current.page - 1));
$("next").addEventListener("click", () => search(current.page + 1));

function fmtETA(s) {
  if (s === null || s === undefined) return "-";
  if (s < 60) return Math.round(s) + " s";
  if (s < 3600) return Math.round(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}

async function refreshScans() {
  const r = await api("/api/v1/scans");
  if (!r.ok) return;
  const body = await r.json();
  fillScans(body.scans.map((s) => s.name));
  const tb = $("scan-table").querySelector("tbody");
  tb.replaceChildren();
  for (const s of body.scans) {
    const tr = document.createElement("tr");
    const pct = s.addresses ? (100 * s.addresses_done / s.addresses).toFixed(1) : "0";
    const o = s.outcomes;
    const name = document.createElement("a");
    name.href = "#"; name.textContent = s.name;
    name.addEventListener("click", (e) => { e.preventDefault(); $("query").value = "scan = '" + s.name + "'"; search(1); });
    const td = document.createElement("td"); td.append(name);
    tr.append(td, cell(s.state.replaceAll("_", " ")),
      cell(s.units_done + "/" + s.units + " units, " + s.addresses_done + "/" + s.addresses + " addresses (" + pct + "%)" + (s.units_failed ? ", " + s.units_failed + " failed" : "")),
      cell(Math.round(s.rate) + " /s"), cell(fmtETA(s.eta_seconds)),
      cell("ok " + o.ok + ", nxdomain " + o.nxdomain + ", nodata " + o.nodata + ", servfail " + o.servfail + ", refused " + o.refused + ", timeout " + o.timeout + "; " + o.ptrs + " PTRs"));
    tb.append(tr);
  }
}

for (let b = 0; b <= 8; b++) {
  const o = document.createElement("option");
  o.value = b; o.textContent = "/" + b;
  $("view-bits").append(o);
}
$("view-bits").addEventListener("change", () => {
  const bits = Number($("view-bits").value);
  const a = view.split("/")[0].split(".").map(Number);
  const n = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
  const m = bits === 0 ? 0 : (n & (~0 << (32 - bits))) >>> 0;
  view = [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join(".") + "/" + bits;
  $("view").value = view;
  showMap();
});

function mapURL() {
  const p = new URLSearchParams({ view: view, mode: $("mode").value });
  if ($("highlight").checked && current.query) p.set("query", current.query);
  return "/api/v1/map.png?" + p.toString();
}

let mapSeq = 0;

// showMap loads the map of the current view; an answer overtaken by a
// later call is dropped.
async function showMap() {
  const seq = ++mapSeq;
  const shown = view;
  const r = await api(mapURL());
  if (seq !== mapSeq) return;
  const img = $("map-img");
  if (!r.ok) { const b = await r.json(); img.hidden = true; $("search-error").textContent = "map: " + b.error; $("search-error").hidden = false; return; }
  const blob = await r.blob();
  if (seq !== mapSeq) return;
  if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(blob);
  img.dataset.view = shown;
  img.hidden = false;
  img.onload = () => { img.style.width = Math.max(img.naturalWidth, 512) + "px"; };
  const bits = Number(view.split("/")[1]);
  if (bits <= 8) $("view-bits").value = bits;
  const lr = await api("/api/v1/map/legend?mode=" + $("mode").value);
  if (lr.ok) {
    const lg = await lr.json();
    $("legend").replaceChildren(...lg.swatches.map((s) => {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.style.background = s.color;
      li.append(sw, s.label);
      return li;
    }));
  }
}

$("map-form").addEventListener("submit", (e) => { e.preventDefault(); view = $("view").value.trim(); showMap(); });
$("mode").addEventListener("change", showMap);
$("zoom-out").addEventListener("click", () => { view = "0.0.0.0/0"; $("view").value = view; $("view-bits").value = 0; showMap(); });
$("map-img").addEventListener("click", async (e) => {
  const img = e.target;
  const x = Math.floor(e.offsetX * img.naturalWidth / img.clientWidth);
  const y = Math.floor(e.offsetY * img.naturalHeight / img.clientHeight);
  const bits = Math.min(Number(view.split("/")[1]) + 4, 16);
  const r = await api("/api/v1/map/block?" + new URLSearchParams({ view: view, x: x, y: y, bits: bits }));
  if (!r.ok) return;
  const b = await r.json();
  view = b.zoom;
  $("view").value = view;
  showMap();
});

// ---- grouping, lookup, fleets, diff: the analytics endpoints ----

let groupBy = "";
let scanNames = "";

// fillScans puts the scans' names (newest first) into the scan choices.
function fillScans(names) {
  const key = names.join("\n");
  if (key === scanNames) return;
  scanNames = key;
  for (const id of ["lookup-scan", "fleets-scan", "diff-from", "diff-to"]) {
    const sel = $(id);
    const keep = sel.value;
    const fixed = [...sel.options].filter((o) => o.value === "");
    sel.replaceChildren(...fixed, ...names.map((n) => { const o = document.createElement("option"); o.value = o.textContent = n; return o; }));
    if (keep && names.includes(keep)) sel.value = keep;
  }
  // Default diff: the second newest to the newest.
  if (names.length >= 2 && $("diff-from").value === $("diff-to").value) {
    $("diff-from").value = names[1];
    $("diff-to").value = names[0];
  }
  if (!$("fleets-scan").value && names.length) $("fleets-scan").value = names[0];
}

function lookupCell(ip) {
  const td = document.createElement("td");
  td.className = "mono";
  const a = document.createElement("a");
  a.href = "#lookup";
  a.textContent = ip;
  a.title = "look up " + ip + " with its history";
  a.addEventListener("click", () => { $("lookup-target").value = ip; $("lookup-scan").value = ""; lookup(); });
  td.append(a);
  return td;
}

function asnText(asn, name) {
  if (!asn) return "-";
  return "AS" + asn + (name ? " " + name : "");
}

// listCell shows a list's first few items and its length, all of it in
// the title.
function listCell(items, fmt) {
  const shown = items.slice(0, 4).map(fmt || String);
  const td = cell(shown.join(", ") + (items.length > 4 ? ", … (" + items.length + ")" : ""));
  td.title = items.map(fmt || String).join("\n");
  return td;
}

// clipCell shows a long name on one line, cut with an ellipsis; all of
// it is in the title.
function clipCell(text) {
  const td = cell("", true);
  const span = document.createElement("span");
  span.className = "clip";
  span.textContent = span.title = text;
  td.append(span);
  return td;
}

function numCell(n) {
  const td = cell(String(n));
  td.className = "num";
  return td;
}

function head(table, cols) {
  const tr = document.createElement("tr");
  for (const c of cols) {
    const th = document.createElement("th");
    th.textContent = c;
    if (c === "Addresses") th.className = "num";
    tr.append(th);
  }
  table.querySelector("thead").replaceChildren(tr);
}

// getJSON GETs an analytics endpoint; on an error it shows the message in
// errId and returns null.
async function getJSON(path, errId) {
  showError(errId, "");
  const r = await api(path);
  let body = null;
  try { body = await r.json(); } catch (e) { showError(errId, "HTTP " + r.status); return null; }
  if (!r.ok) { showError(errId, body.error); return null; }
  return body;
}

async function showGroups(by) {
  groupBy = by;
  for (const b of document.querySelectorAll("#groups .tabs button")) b.classList.toggle("active", b.dataset.by === by);
  const q = current.query || $("query").value.trim();
  const params = { by: by, query: q };
  $("group-dl-json").onclick = () => save(queryPath("/api/v1/groups", Object.assign({ format: "json" }, params)), "group-error");
  $("group-dl-csv").onclick = () => save(queryPath("/api/v1/groups", Object.assign({ format: "csv" }, params)), "group-error");
  $("group-summary").textContent = "grouping…";
  const body = await getJSON(queryPath("/api/v1/groups", params), "group-error");
  const table = $("group-table");
  if (!body) { table.hidden = true; $("group-summary").textContent = ""; $("group-downloads").hidden = true; return; }
  const tb = table.querySelector("tbody");
  tb.replaceChildren();
  if (by === "netblock") {
    head(table, ["Netblock", "Provider", "Country", "Addresses"]);
    for (const g of body.groups) {
      const tr = document.createElement("tr");
      const nb = cell(g.netblock, true);
      tr.append(nb, cell(asnText(g.asn, g.as_name)), cell(g.country || "-"), numCell(g.addresses));
      tb.append(tr);
    }
  } else if (by === "asn") {
    head(table, ["Provider", "Addresses", "Netblocks", "Countries"]);
    for (const g of body.groups) {
      const tr = document.createElement("tr");
      tr.append(cell(asnText(g.asn, g.as_name)), numCell(g.addresses), listCell(g.netblocks), cell(g.countries.join(", ") || "-"));
      tb.append(tr);
    }
  } else {
    head(table, ["Country", "Addresses", "Netblocks", "Providers"]);
    for (const g of body.groups) {
      const tr = document.createElement("tr");
      tr.append(cell(g.country || "-"), numCell(g.addresses), listCell(g.netblocks), listCell(g.asns, (a) => asnText(a)));
      tb.append(tr);
    }
  }
  const what = { netblock: "netblocks", asn: "providers", country: "countries" }[by];
  $("group-summary").textContent = body.addresses + " addresses in " + body.groups.length + " " + what + " · " + body.query +
    (body.routed ? "" : " · no IP-to-ASN table loaded: netblocks are /24s (coordinator asn load FILE)");
  $("group-summary").dataset.query = body.query;
  $("group-summary").dataset.by = by;
  table.hidden = false;
  $("group-downloads").hidden = false;
}

for (const b of document.querySelectorAll("#groups .tabs button")) b.addEventListener("click", () => showGroups(b.dataset.by));

function fmtTime(t) {
  return t ? t.replace("T", " ").replace("Z", " UTC") : "-";
}

async function lookup() {
  const target = $("lookup-target").value.trim();
  if (!target) return;
  const params = {};
  if ($("lookup-scan").value) params.scan = $("lookup-scan").value;
  $("lookup-summary").textContent = "looking up…";
  const body = await getJSON(queryPath("/api/v1/lookup/" + target.split("/").map(encodeURIComponent).join("/"), params), "lookup-error");
  const out = $("lookup-results");
  out.replaceChildren();
  if (!body) { $("lookup-summary").textContent = ""; return; }
  $("lookup-summary").textContent = body.histories.length ? body.histories.length + " address" + (body.histories.length === 1 ? "" : "es") + " with stored rows in " + body.target
    : "no stored rows for " + body.target + " (NXDOMAIN addresses store none)";
  for (const h of body.histories.slice(0, 256)) {
    const div = document.createElement("div");
    div.className = "history";
    const p = document.createElement("p");
    const ip = document.createElement("strong");
    ip.className = "mono";
    ip.textContent = h.ip;
    p.append(ip, " · " + h.netblock + " · " + asnText(h.asn, h.as_name) + " · " + (h.country || "-") +
      (h.first_seen ? " · first seen " + fmtTime(h.first_seen) + ", last seen " + fmtTime(h.last_seen) : "") +
      " · " + h.scans.length + " scan" + (h.scans.length === 1 ? "" : "s") + ", " + h.changes + " change" + (h.changes === 1 ? "" : "s"));
    const t = document.createElement("table");
    t.innerHTML = "<thead><tr><th>Scan</th><th>Resolved</th><th>Status</th><th>PTR</th><th>FCrDNS</th><th>TTL</th></tr></thead><tbody></tbody>";
    for (const o of h.scans) {
      const names = o.ptrs.length ? o.ptrs : [{ ptr: "", fcrdns: "", ttl: "" }];
      for (const n of names) {
        const tr = document.createElement("tr");
        tr.append(cell(o.scan), cell(fmtTime(o.resolved_at)), cell(o.status), cell(n.ptr || "-", true), cell(n.fcrdns || "-"), cell(String(n.ttl)));
        t.querySelector("tbody").append(tr);
      }
    }
    div.append(p, t);
    out.append(div);
  }
  if (body.histories.length > 256) {
    const more = document.createElement("p");
    more.className = "note";
    more.textContent = "showing the first 256 addresses of " + body.histories.length + "; look up a smaller block for the rest";
    out.append(more);
  }
}

$("lookup-form").addEventListener("submit", (e) => { e.preventDefault(); lookup(); });

async function fleets() {
  const params = { min_addresses: $("fleets-min").value || "2" };
  if ($("fleets-scan").value) params.scan = $("fleets-scan").value;
  if ($("fleets-suffix").value.trim()) params.suffix = $("fleets-suffix").value.trim();
  $("fleets-summary").textContent = "grouping names…";
  const body = await getJSON(queryPath("/api/v1/fleets", params), "fleets-error");
  const table = $("fleets-table");
  if (!body) { table.hidden = true; $("fleets-summary").textContent = ""; return; }
  const tb = table.querySelector("tbody");
  tb.replaceChildren();
  for (const f of body.fleets) {
    const tr = document.createElement("tr");
    const tpl = clipCell(f.template);
    const ex = clipCell(f.example);
    if (f.scanner) {
      const mark = document.createElement("span");
      mark.className = "badge";
      mark.textContent = "scanner";
      mark.title = "names like a scanner's (" + f.scanner + ")";
      tpl.append(" ", mark);
    }
    tr.append(tpl, numCell(f.addresses), numCell(f.names), listCell(f.netblocks), listCell(f.asns.filter((a) => a), (a) => asnText(a)), cell(f.countries.join(", ") || "-"), ex);
    tb.append(tr);
  }
  const where = [body.scan && "scan " + body.scan, body.suffix && "suffix " + body.suffix].filter(Boolean).join(", ");
  $("fleets-summary").textContent = body.fleets.length + " template" + (body.fleets.length === 1 ? "" : "s") + " with " + body.min_addresses + " or more addresses · " + where;
  table.hidden = body.fleets.length === 0;
}

$("fleets-form").addEventListener("submit", (e) => { e.preventDefault(); fleets(); });

async function diff() {
  const params = { from: $("diff-from").value, to: $("diff-to").value, limit: "1000" };
  if ($("diff-suffix").value.trim()) params.suffix = $("diff-suffix").value.trim();
  $("diff-summary").textContent = "comparing…";
  const body = await getJSON(queryPath("/api/v1/diff", params), "diff-error");
  const table = $("diff-table");
  if (!body) { table.hidden = true; $("diff-summary").textContent = ""; return; }
  const tb = table.querySelector("tbody");
  tb.replaceChildren();
  for (const c of body.changes) {
    const tr = document.createElement("tr");
    const ch = cell(c.change);
    ch.className = "change-" + c.change;
    tr.append(lookupCell(c.ip), ch, cell(c.from.join(" ") || "-", true), cell(c.to.join(" ") || "-", true));
    tb.append(tr);
  }
  const n = body.counts;
  $("diff-summary").textContent = body.from + " → " + body.to + (body.suffix ? " under " + body.suffix : "") + ": appeared " + n.appeared + ", disappeared " + n.disappeared +
    ", changed " + n.changed + ", unchanged " + n.unchanged + ", unresolved " + n.unresolved + (body.truncated ? " · the first " + body.limit + " changes listed" : "");
  table.hidden = body.changes.length === 0;
}

$("diff-form").addEventListener("submit", (e) => { e.preventDefault(); diff(); });

refreshScans();
setInterval(refreshScans, 3000);
const initial = new URLSearchParams(location.search).get("q");
if (initial) { $("query").value = initial; search(1); } else { showMap(); }
