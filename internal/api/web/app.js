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
    tr.append(cell(rec.ip, true), cell(rec.ptr, true), cell(rec.status), cell(rec.asn ? "AS" + rec.asn : ""), cell(rec.country), cell(rec.fcrdns), cell(rec.scan));
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
  if ($("highlight").checked) showMap();
}

function csvField(s) {
  s = String(s);
  return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function setDownloads(body) {
  const cols = ["ip", "ptr", "status", "fcrdns", "asn", "country", "scan", "resolved_at"];
  const lines = [cols.join(",")].concat(body.records.map((r) => cols.map((c) => csvField(r[c])).join(",")));
  const old = [$("dl-json").href, $("dl-csv").href];
  $("dl-json").href = URL.createObjectURL(new Blob([JSON.stringify(body, null, 1)], { type: "application/json" }));
  $("dl-csv").href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
  for (const u of old) if (u.startsWith("blob:")) URL.revokeObjectURL(u);
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

refreshScans();
setInterval(refreshScans, 3000);
const initial = new URLSearchParams(location.search).get("q");
if (initial) { $("query").value = initial; search(1); } else { showMap(); }
