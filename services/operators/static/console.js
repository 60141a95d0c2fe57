/* The operator console: polls the service for the newest health snapshot and the dead-letter queue. */
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  const state = {token: sessionStorage.getItem("veiviser-operator-token"), me: null, group: null,
    selected: new Set(), viewing: null, action: null, timer: null, interval: 3000};

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
    return node;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function badge(status) {
    return el("span", {class: "badge " + status}, status);
  }

  function seconds(value) {
    return value === null || value === undefined ? "–" : value < 10 ? value.toFixed(2) : value.toFixed(0);
  }

  async function api(path, options = {}) {
    const response = await fetch(path, {...options, headers: {...(options.headers || {}),
      "Authorization": "Bearer " + state.token, "Content-Type": "application/json"}});
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (response.status === 401) { signOut("Unknown token: sign in again."); throw new Error("unauthorised"); }
    if (!response.ok && response.status !== 207 && response.status !== 409) {
      throw new Error((body && body.error ? body.error + (body.fix ? " (" + body.fix + ")" : "") : "")
        || response.statusText);
    }
    return {status: response.status, body};
  }

  function signOut(message) {
    sessionStorage.removeItem("veiviser-operator-token");
    state.token = null;
    clearTimeout(state.timer);
    $("console").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
  }

  async function signIn() {
    const {body} = await api("/api/me");
    state.me = body;
    $("who").textContent = body.name + " (" + body.role + ")";
    $("login").hidden = true;
    $("console").hidden = false;
    $("dlq-browser").hidden = !body.operator;
    $("dlq-forbidden").hidden = body.operator;
    poll();
  }

  async function poll() {
    clearTimeout(state.timer);
    try {
      const {body} = await api("/api/snapshot");
      state.interval = Math.min(5000, Math.max(1000, (body.interval_s || 3) * 1000));
      render(body);
      if (state.me && state.me.operator) await loadDeadLetters();
    } catch (e) {
      if (!state.token) return;
      $("errors").textContent = "The console cannot be reached: " + e.message;
    }
    if (state.token) state.timer = setTimeout(poll, state.interval);
  }

  function render(snapshot) {
    const health = snapshot.health;
    const errors = Object.entries(snapshot.errors || {}).map(([k, v]) => k + ": " + v);
    $("errors").textContent = errors.join("; ");
    $("taken-at").textContent = snapshot.taken_at ? "sampled " + Charts.clock(snapshot.taken_at) : "no sample yet";
    const overall = $("overall");
    overall.textContent = health ? health.status : "…";
    overall.className = "badge " + (health ? health.status : "");
    fill($("problems"), ((health && health.problems) || []).map(p => el("li", {}, p)));
    renderCluster(health && health.cluster);
    renderGroups((health && health.groups) || []);
    renderThroughput((health && health.topics) || []);
    renderLatency(health && health.latency, snapshot.series || []);
    renderDeadSummary(snapshot.dead_letters, snapshot.series || []);
  }

  function renderCluster(cluster) {
    if (!cluster) { $("cluster").textContent = "no cluster sample yet"; return; }
    const down = cluster.brokers.filter(b => !b.up).length;
    $("cluster").textContent = `${cluster.brokers.length - down} of ${cluster.brokers.length} brokers up · ` +
      `controller ${cluster.quorum_leader_id ?? cluster.controller_id ?? "unknown"} · ${cluster.topics} topics, ` +
      `${cluster.partitions} partitions · under-replicated ${cluster.under_replicated.length} · ` +
      `offline ${cluster.offline.length}`;
    fill($("brokers").tBodies[0], cluster.brokers.map(b => el("tr", {},
      el("td", {}, String(b.node_id)), el("td", {}, (b.host || "?") + ":" + (b.port || "?")),
      el("td", {}, badge(b.up ? "OK" : "ERR"), b.fenced ? " fenced" : ""))));
  }

  function renderGroups(groups) {
    if (!groups.some(g => g.group === state.group)) {
      const lagging = groups.find(g => g.total_lag > 0);
      state.group = (lagging || groups[0] || {}).group || null;
    }
    fill($("groups").tBodies[0], groups.map(g => {
      const row = el("tr", {class: "clickable" + (g.group === state.group ? " selected" : ""), "data-group": g.group},
        el("td", {}, g.group), el("td", {}, badge(g.status)), el("td", {}, g.state), el("td", {}, String(g.members)),
        el("td", {}, String(g.total_lag)), el("td", {}, seconds(g.max_lag_seconds)));
      row.addEventListener("click", () => { state.group = g.group; renderGroups(groups); });
      return row;
    }));
    const group = groups.find(g => g.group === state.group);
    $("lag-group").textContent = group ? group.group : "no groups";
    const partitions = group ? group.partitions : [];
    Charts.line($("lag-chart"), partitions.map(p => ({name: p.topic.split(".").slice(-2).join(".") + "/" + p.partition,
      points: (p.history || []).map(h => [h.at, h.lag])})), $("lag-legend"));
    fill($("partitions").tBodies[0], partitions.map(p => el("tr", {},
      el("td", {}, p.topic + "/" + p.partition), el("td", {}, badge(p.status)), el("td", {}, String(p.lag)),
      el("td", {}, seconds(p.lag_seconds) + (p.lag_seconds_estimated ? " (est.)" : "")), el("td", {}, p.reason))));
  }

  function renderThroughput(topics) {
    Charts.line($("throughput-chart"), topics.map(t => ({name: t.topic,
      points: (t.history || []).filter(h => h.per_second !== null).map(h => [h.at, h.per_second])})),
      $("throughput-legend"));
  }

  function renderLatency(latency, series) {
    $("latency-now").textContent = latency ? `last ${latency.minutes} min: ${latency.count} decisions · ` +
      `p50 ${seconds(latency.p50)} s · p90 ${seconds(latency.p90)} s · p99 ${seconds(latency.p99)} s · ` +
      `max ${seconds(latency.max)} s` : "no latency figures (no decisions yet, or no database)";
    Charts.line($("latency-chart"), ["p50", "p90", "p99"].map(k => ({name: k,
      points: series.map(s => [s.at, s[k]])})), $("latency-legend"));
  }

  function renderDeadSummary(summary, series) {
    if (!summary) return;
    $("dlq-open").textContent = String(summary.open);
    $("dlq-open").className = "badge " + (summary.open ? "WARN" : "OK");
    const statuses = summary.by_status || {};
    $("dlq-counts").textContent = `${summary.total} in all · open ${summary.open} · replayed ` +
      `${statuses.replayed || 0} · discarded ${statuses.discarded || 0} · last hour ${summary.last_hour}` +
      (summary.failing_again ? ` · ${summary.failing_again} replays failed again` : "");
    fill($("dlq-reasons"), summary.newest_reasons.map(r => el("li", {}, `${r.count} × ${r.reason}`)));
    Charts.line($("dlq-chart"), [{name: "open", points: series.map(s => [s.at, s.open])}]);
  }

  function filters() {
    const form = new FormData($("dlq-filter"));
    const params = new URLSearchParams({limit: "100"});
    for (const [k, v] of form.entries()) {
      if (!v) continue;
      params.set(k, (k === "since" || k === "until") ? new Date(v).toISOString() : v);
    }
    return params;
  }

  async function loadDeadLetters() {
    const {body} = await api("/api/deadletters?" + filters());
    $("dlq-total").textContent = `${body.items.length} of ${body.total} shown`;
    fill($("deadletters").tBodies[0], body.items.map(item => {
      const box = el("input", {type: "checkbox", checked: state.selected.has(item.ref), "data-ref": item.ref});
      box.addEventListener("click", ev => {
        ev.stopPropagation();
        if (box.checked) state.selected.add(item.ref); else state.selected.delete(item.ref);
      });
      const status = item.status + (item.replays ? " ×" + item.replays : "") +
        (item.generation ? " (replay failed, gen " + item.generation + ")" : "");
      const row = el("tr", {class: "clickable", "data-ref": item.ref}, el("td", {}, box), el("td", {}, item.ref),
        el("td", {}, new Date(item.dead_at).toLocaleString()), el("td", {}, item.origin_topic || item.source),
        el("td", {}, item.stage), el("td", {}, status), el("td", {}, item.reason));
      row.addEventListener("click", () => view(item.ref, false));
      return row;
    }));
  }

  async function view(ref, unmasked) {
    const [p, o] = ref.split(":");
    try {
      const {body} = await api(`/api/deadletters/${p}/${o}` + (unmasked ? "?unmasked=true" : ""));
      state.viewing = ref;
      $("dl-view").hidden = false;
      $("dl-ref").textContent = ref;
      const meta = ["status", "source", "origin_topic", "origin_partition", "origin_offset", "stage", "outcome",
        "event_name", "event_id", "value_bytes", "replays", "generation", "key", "dead_at"];
      fill($("dl-meta"), meta.filter(k => body[k] !== null && body[k] !== "" && body[k] !== undefined)
        .flatMap(k => [el("dt", {}, k), el("dd", {}, String(body[k]))]));
      $("dl-reason").textContent = body.reason + (body.error ? " — " + body.error : "");
      fill($("dl-problems"), (body.problems || []).map(pr => el("li", {}, `${pr.path}: ${pr.message}. Fix: ${pr.fix}`)));
      $("dl-masked").textContent = `(${body.value_encoding}${body.masked ? ", personal data masked" : ", unmasked"})`;
      $("dl-value").textContent = body.value;
      $("dl-unmask").hidden = !(state.me.privileged && body.masked);
      fill($("dl-audit"), (body.audit || []).map(a => el("li", {}, `${new Date(a.at).toLocaleString()} ${a.action} by ` +
        `${a.actor}${a.forced ? " (forced)" : ""}${a.why ? ": " + a.why : ""}`)));
      $("dl-view").scrollIntoView();
    } catch (e) {
      $("action-result").textContent = "Cannot show " + ref + ": " + e.message;
    }
  }

  function openAction(kind, refs) {
    if (!refs.length) { $("action-result").textContent = "Select dead letters first."; return; }
    state.action = {kind, refs};
    $("action-title").textContent = `${kind === "replay" ? "Replay" : "Discard"} ${refs.length} dead letter(s): ` +
      refs.join(", ");
    $("action-why").value = "";
    $("action-force").checked = false;
    $("action-dialog").hidden = false;
    $("action-why").focus();
  }

  async function confirmAction() {
    const {kind, refs} = state.action;
    const why = $("action-why").value, force = $("action-force").checked;
    $("action-dialog").hidden = true;
    try {
      const {body} = await api(`/api/deadletters/${kind}`, {method: "POST", body: JSON.stringify({refs, why, force})});
      const lines = body.results.map(r => `${r.ref}: ${r.ok ? "" : "refused: "}${r.detail}`);
      $("action-result").textContent = `${kind}: ${body.done} done, ${body.refused} refused. ` + lines.join(" · ");
      $("action-result").className = body.refused ? "error" : "";
      refs.forEach(r => state.selected.delete(r));
      if (state.viewing && refs.includes(state.viewing)) view(state.viewing, false);
      await loadDeadLetters();
    } catch (e) {
      $("action-result").textContent = `${kind} failed: ${e.message}`;
      $("action-result").className = "error";
    }
  }

  function wire() {
    $("login-form").addEventListener("submit", ev => {
      ev.preventDefault();
      state.token = $("token").value.trim();
      sessionStorage.setItem("veiviser-operator-token", state.token);
      signIn().catch(e => signOut("Sign-in failed: " + e.message));
    });
    $("dlq-filter").addEventListener("submit", ev => { ev.preventDefault(); loadDeadLetters(); });
    $("select-all").addEventListener("change", ev => {
      document.querySelectorAll("#deadletters tbody input[type=checkbox]").forEach(box => {
        box.checked = ev.target.checked;
        if (box.checked) state.selected.add(box.dataset.ref); else state.selected.delete(box.dataset.ref);
      });
    });
    $("replay-selected").addEventListener("click", () => openAction("replay", [...state.selected]));
    $("discard-selected").addEventListener("click", () => openAction("discard", [...state.selected]));
    $("dl-replay").addEventListener("click", () => openAction("replay", [state.viewing]));
    $("dl-discard").addEventListener("click", () => openAction("discard", [state.viewing]));
    $("dl-unmask").addEventListener("click", () => view(state.viewing, true));
    $("dl-close").addEventListener("click", () => { $("dl-view").hidden = true; state.viewing = null; });
    $("action-confirm").addEventListener("click", confirmAction);
    $("action-cancel").addEventListener("click", () => { $("action-dialog").hidden = true; });
  }

  wire();
  if (state.token) signIn().catch(e => signOut("Sign-in failed: " + e.message)); else signOut();
})();
