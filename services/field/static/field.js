/* Veiviser field page: the day's stops in order, a map drawn from our own outlines (SVG, no tiles), actions.
   Works offline: no external scripts, fonts or tiles; the last route and the outlines are kept in localStorage
   and shown when the network is gone. The token is entered once (or given as #token=...) and kept.
   Kept data belongs to one token: the worker and the routes are kept with a fingerprint of the token they were
   fetched with and shown offline only to that token; another token, a refused token or logging out removes
   every veiviser.field.* key. */
(function () {
  "use strict";

  var KEY = "veiviser.field.";
  var LABELS = {
    purpose: {
      financial_assistance: "Økonomisk sosialhjelp", temporary_housing: "Midlertidig botilbud",
      guidance: "Råd og veiledning", work_oriented_follow_up: "Arbeidsrettet oppfølging",
      qualification_programme: "Kvalifiseringsprogrammet", debt_counselling: "Gjeldsrådgivning"
    },
    kind: { home: "Hjemme", work: "Arbeidssted", school: "Skole" },
    status: { planned: "Planlagt", open: "Åpen", started: "Påbegynt", completed: "Fullført",
              failed: "Ikke truffet", escalated: "Sendt til kontoret" },
    withheld: {
      protected_address: "skjermet adresse – stedet vises aldri. Avtal møtested med kontoret.",
      protection_unknown: "adressen vises ikke (ukjent om den er skjermet). Spør kontoret før besøket."
    },
    reason: { not_at_home: "Ikke hjemme", refused: "Ønsket ikke besøk", unsafe: "Utrygg situasjon",
              access_problem: "Kom ikke fram", other: "Annet" }
  };
  var state = { token: null, worker: null, reasons: [], route: null, outlines: null };

  function $(selector, root) { return (root || document).querySelector(selector); }
  function label(group, code) { return (LABELS[group] && LABELS[group][code]) || code || ""; }

  function say(text, isError) {
    var el = $("#status");
    el.textContent = text || "";
    el.className = isError ? "error" : "";
  }

  function fragment() {
    var out = {};
    (location.hash || "").replace(/^#/, "").split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i > 0) { out[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1)); }
    });
    return out;
  }

  function today() {
    var d = new Date();
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 10);
  }

  function saved(name) {
    try { return JSON.parse(localStorage.getItem(KEY + name)); } catch (e) { return null; }
  }
  function save(name, value) {
    try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* full: keep going */ }
  }

  /* Every kept key of the page (token, worker, routes, outlines): nothing of one worker stays for the next. */
  function forget() {
    var names = [];
    for (var i = 0; i < localStorage.length; i++) {
      var name = localStorage.key(i);
      if (name && name.indexOf(KEY) === 0) { names.push(name); }
    }
    names.forEach(function (name) { localStorage.removeItem(name); });
  }

  /* Which token kept data was fetched with, without keeping the token itself (two 32-bit FNV-1a hashes; an
     equality check for data shown offline, not a secret). */
  function fingerprint(token) {
    var a = 0x811c9dc5, b = 0x2c9277b5;
    for (var i = 0; i < (token || "").length; i++) {
      var c = token.charCodeAt(i);
      a = Math.imul(a ^ c, 16777619) >>> 0;
      b = Math.imul(b ^ c, 16777619) >>> 0;
      b = (b ^ (b >>> 13)) >>> 0;
    }
    return a.toString(16) + "." + b.toString(16) + "." + (token || "").length;
  }

  function keep(name, value) { save(name, { owner: fingerprint(state.token), value: value }); }
  function kept(name) {
    var entry = saved(name);
    return entry && entry.owner === fingerprint(state.token) ? entry.value : null;
  }

  function useToken(token) {
    if (localStorage.getItem(KEY + "token") !== token) { forget(); }  // someone else's: nothing earlier stays
    localStorage.setItem(KEY + "token", token);
    state.token = token;
  }

  function ApiError(status, body) {
    this.status = status;
    this.message = body && body.error ? body.error + (body.fix ? " – " + body.fix : "") : "feil " + status;
  }

  function api(method, path, body) {
    var options = { method: method, headers: { Authorization: "Bearer " + state.token } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) { throw new ApiError(response.status, data); }
        return data;
      });
    });
  }

  function offline(error) { return !(error instanceof ApiError); }

  /* ---- start ------------------------------------------------------------------------------------------ */
  function start() {
    var given = fragment();
    if (given.token) {
      useToken(given.token);
      history.replaceState(null, "", location.pathname + (given.day ? "#day=" + given.day : ""));
    }
    state.token = localStorage.getItem(KEY + "token");
    $("#day").value = given.day || today();
    $("#token-form").addEventListener("submit", function (event) {
      event.preventDefault();
      useToken($("#token").value.trim());
      enter();
    });
    $("#reload").addEventListener("click", load);
    $("#day").addEventListener("change", load);
    $("#logout").addEventListener("click", function () {
      forget();
      location.reload();
    });
    if (state.token) { enter(); } else { showLogin(); }
  }

  function showLogin(message) {
    $("#login").hidden = false;
    $("#main").hidden = true;
    if (message) { $(".hint").textContent = message; }
  }

  function enter() {
    api("GET", "/v1/me").then(function (me) {
      keep("me", me);
      begin(me);
    }).catch(function (error) {
      if (error.status === 401) {
        forget();
        showLogin(error.message);
      } else if (offline(error) && kept("me")) {
        begin(kept("me"));
      } else {
        showLogin(offline(error) ? "Uten nett, og ingenting er lagret for denne nøkkelen. Prøv igjen med dekning."
                                 : error.message);
      }
    });
  }

  function begin(me) {
    state.worker = me.worker_id;
    state.reasons = me.failure_reasons || [];
    $("#who").textContent = me.worker_id;
    $("#login").hidden = true;
    $("#main").hidden = false;
    load();
  }

  /* ---- route ------------------------------------------------------------------------------------------ */
  function load() {
    var day = $("#day").value || today();
    say("Henter ruten …");
    var path = "/v1/workers/" + encodeURIComponent(state.worker) + "/routes/" + day;
    return api("GET", path).then(function (route) {
      keep("route." + state.worker + "." + day, route);
      show(route, "");
    }).catch(function (error) {
      var last = kept("route." + state.worker + "." + day);
      if (offline(error) && last) {
        show(last, "Uten nett: viser ruten slik den var sist hentet.");
      } else {
        say(error.message, true);
      }
    }).then(function () { return loadOutlines(day); });
  }

  function show(route, note) {
    state.route = route;
    var list = $("#stops");
    list.textContent = "";
    route.stops.forEach(function (stop) { list.appendChild(stopItem(stop)); });
    var done = route.stops.filter(function (s) { return s.status === "completed" || s.status === "failed"; });
    say(note || (route.stops.length ? route.stops.length + " besøk, " + done.length + " avsluttet" :
                 "Ingen besøk planlagt denne dagen."));
    drawMap();
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString("nb-NO", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Oslo" });
  }

  function stopItem(stop) {
    var item = document.importNode($("#stop-template").content, true).firstElementChild;
    item.dataset.visit = stop.visit_id;
    item.dataset.seq = stop.seq;
    item.classList.add(stop.status);
    $(".seq", item).textContent = stop.seq;
    $(".eta", item).textContent = clock(stop.eta) + "–" + clock(stop.departure);
    $(".badge", item).textContent = label("status", stop.status) + (stop.reason ? ": " + label("reason", stop.reason) : "");
    $(".what", item).textContent = label("purpose", stop.purpose) + (stop.language ? " · språk: " + stop.language : "") +
      " · sak " + stop.case_id;
    var where = $(".where", item);
    if (stop.location_withheld) {
      where.textContent = label("kind", stop.location_kind) + ": " + label("withheld", stop.location_withheld);
      where.classList.add("withheld");
    } else {
      where.textContent = label("kind", stop.location_kind) + (stop.municipality ? ", " + stop.municipality : "");
    }
    var reason = $(".reason", item);
    reason.appendChild(new Option("Grunn …", ""));
    state.reasons.forEach(function (code) { reason.appendChild(new Option(label("reason", code), code)); });
    var finished = stop.status === "completed" || stop.status === "failed" || stop.status === "escalated";
    $(".start", item).disabled = finished || stop.status === "started";
    [".complete", ".fail", ".reason"].forEach(function (s) { $(s, item).disabled = finished; });
    $(".start", item).addEventListener("click", function () { act(stop, "start"); });
    $(".complete", item).addEventListener("click", function () { act(stop, "complete"); });
    $(".fail", item).addEventListener("click", function () {
      if (!reason.value) { say("Velg en grunn før «Traff ikke».", true); reason.focus(); return; }
      act(stop, "fail", reason.value);
    });
    return item;
  }

  function act(stop, action, reason) {
    var item = $('li[data-visit="' + CSS.escape(stop.visit_id) + '"]');
    item.querySelectorAll("button, select").forEach(function (b) { b.disabled = true; });
    say("Sender …");
    var path = "/v1/workers/" + encodeURIComponent(state.worker) + "/routes/" + state.route.day + "/visits/" +
      encodeURIComponent(stop.visit_id) + "/" + action;
    return api("POST", path, reason ? { reason: reason } : undefined).then(function () {
      return load();
    }).catch(function (error) {
      show(state.route, "");
      say(offline(error) ? "Uten nett: ikke sendt. Trykk igjen når du har dekning." : error.message, true);
    });
  }

  /* ---- map -------------------------------------------------------------------------------------------- */
  function loadOutlines(day) {
    var kept = saved("outlines");
    if (kept) { state.outlines = kept; drawMap(); return Promise.resolve(); }
    return fetch("/v1/outlines?day=" + day).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { state.outlines = data; save("outlines", data); drawMap(); } })
      .catch(function () { /* offline and never fetched: the list still works */ });
  }

  function located() {
    return (state.route ? state.route.stops : []).filter(function (s) { return s.location; });
  }

  function view() {
    var stops = located();
    var box = stops.length ? [180, 90, -180, -90] : (state.outlines ? state.outlines.bbox.slice() : [8, 62, 18, 70]);
    stops.forEach(function (s) {
      box = [Math.min(box[0], s.location.lon), Math.min(box[1], s.location.lat),
             Math.max(box[2], s.location.lon), Math.max(box[3], s.location.lat)];
    });
    var padLat = Math.max(0.08, (box[3] - box[1]) * 0.2);
    var midLat = (box[1] + box[3]) / 2, k = Math.cos(midLat * Math.PI / 180);
    var padLon = Math.max(padLat / k, (box[2] - box[0]) * 0.2);
    box = [box[0] - padLon, box[1] - padLat, box[2] + padLon, box[3] + padLat];
    var width = (box[2] - box[0]) * k, height = box[3] - box[1];
    var scale = Math.min(400 / width, 300 / height);
    var cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
    var reach = [200 / scale / k, 150 / scale];
    return {
      box: [cx - reach[0], cy - reach[1], cx + reach[0], cy + reach[1]],
      project: function (lon, lat) { return [200 + (lon - cx) * k * scale, 150 - (lat - cy) * scale]; }
    };
  }

  function rings(geometry) {
    if (geometry.type === "Polygon") { return geometry.coordinates; }
    if (geometry.type === "MultiPolygon") { return [].concat.apply([], geometry.coordinates); }
    return [];
  }

  function overlaps(ring, box) {
    var minX = 180, minY = 90, maxX = -180, maxY = -90;
    ring.forEach(function (p) {
      minX = Math.min(minX, p[0]); maxX = Math.max(maxX, p[0]); minY = Math.min(minY, p[1]); maxY = Math.max(maxY, p[1]);
    });
    return maxX >= box[0] && minX <= box[2] && maxY >= box[1] && minY <= box[3];
  }

  function pathOf(geometry, v) {
    return rings(geometry).filter(function (ring) { return overlaps(ring, v.box); }).map(function (ring) {
      return "M" + ring.map(function (p) {
        var xy = v.project(p[0], p[1]);
        return xy[0].toFixed(1) + " " + xy[1].toFixed(1);
      }).join("L") + "Z";
    }).join("");
  }

  function svg(name, attributes, parent) {
    var el = document.createElementNS("http://www.w3.org/2000/svg", name);
    Object.keys(attributes).forEach(function (key) { el.setAttribute(key, attributes[key]); });
    if (parent) { parent.appendChild(el); }
    return el;
  }

  function drawLayer(map, collection, cls, v) {
    var group = svg("g", { "class": cls + "s" }, map);
    collection.features.forEach(function (feature) {
      var d = pathOf(feature.geometry, v);
      if (d) {
        var path = svg("path", { d: d, "class": cls, "data-code": feature.properties.code || feature.properties.region }, group);
        svg("title", {}, path).textContent = feature.properties.name;
      }
    });
  }

  function drawMap() {
    var map = $("#map");
    map.textContent = "";
    var v = view();
    if (state.outlines) {
      drawLayer(map, state.outlines.municipalities, "muni", v);
      drawLayer(map, state.outlines.regions, "region", v);
    }
    var stops = located();
    if (stops.length > 1) {
      svg("polyline", { "class": "route", points: stops.map(function (s) {
        return v.project(s.location.lon, s.location.lat).join(",");
      }).join(" ") }, map);
    }
    stops.forEach(function (s) {
      var xy = v.project(s.location.lon, s.location.lat);
      var marker = svg("g", { "class": "marker " + s.status, "data-seq": s.seq }, map);
      svg("circle", { cx: xy[0], cy: xy[1], r: 9 }, marker);
      svg("text", { x: xy[0], y: xy[1], "font-size": 11 }, marker).textContent = s.seq;
    });
  }

  document.addEventListener("DOMContentLoaded", start);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* not kept offline; the page still works */ });
  }
}());
