// Line 19 — supervisor view. Plain JS, no build step, no framework.
// The API contract it codes against is in docs/console.md ("The supervisor page"). Every
// text that comes from the server is written with textContent, never as HTML.
//
// The overview is read every 2 s (GET /api/v1/supervisor/overview); between two reads the
// `operator_state` events of the live stream update the operators at once. An overview that
// was asked for before an event arrived is older than that event: the event is applied on top.
"use strict";

(function () {
  const POLL_MS = 2000;
  const RECONNECT_DELAY_MS = 2000; // when the browser gave up on the stream (non-200 answer)
  const STALE_MS = 10000; // an overview older than this is marked stale
  const LONG_WAIT_S = 15; // a call waiting this long is shown in red (NENA: 90 % within 15 s)
  const UNITS_POLL_MS = 3000; // GET /api/v1/units
  const OLD_FIX_S = 300; // a unit's position older than this is shown in amber

  const STATES = ["ready", "paused", "ringing", "in_call", "wrapup", "unreachable"];
  const { STATE_LABELS, STATE_ENGLISH, PAUSE_LABELS } = L19Page;
  const { small, setBilingual, clock, elapsed, formatTime, goToLogin } = L19Page;

  const $ = (id) => document.getElementById(id);
  const el = {
    whoami: $("whoami"),
    generatedAt: $("generated-at"),
    conn: $("conn"),
    error: $("error"),
    serviceLevel: $("service-level"),
    slWindow: $("sl-window"),
    rooms: $("rooms"),
    operators: $("operators"),
    carriers: $("carriers"),
    unitsSection: $("units-section"),
    unitsMap: $("units-map"),
    unitsTable: $("units-table"),
    unitsRows: $("units-rows"),
  };

  let overview = null; // the overview shown: the last answer with the newer events applied
  let receivedAt = 0; // when that answer arrived (Date.now())
  let eventSeq = 0; // counts the operator_state events received
  const liveStates = new Map(); // endpoint -> {seq, view}: events not yet in an overview
  let polling = false;
  const errorLine = L19Page.errors(el.error); // a poll that works again clears its own error
  const api = L19Page.api(errorLine);
  const setConnection = L19Page.connectionBadge(el.conn);

  // ---------------------------------------------------------------- small helpers

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // A wait: "12 s" under a minute, then "01:15".
  function waitText(seconds) {
    if (typeof seconds !== "number") return "—";
    return seconds < 60 ? Math.floor(seconds) + " s" : clock(seconds);
  }

  function durationText(seconds) {
    return typeof seconds === "number" ? clock(seconds) : "—";
  }

  function pctText(pct) {
    if (typeof pct !== "number") return "—";
    return (Math.round(pct * 10) / 10).toLocaleString("fr-FR") + " %";
  }

  function stateText(state, pauseReason) {
    let french = STATE_LABELS[state] || state;
    let english = STATE_ENGLISH[state] || state;
    if (state === "paused" && pauseReason) {
      // "En pause" already says "break"
      if (pauseReason !== "break") french += " — " + (PAUSE_LABELS[pauseReason] || pauseReason);
      english += ": " + pauseReason;
    }
    return [french, english];
  }

  // ---------------------------------------------------------------- the model

  function normalise(data) {
    data.rooms = Array.isArray(data.rooms) ? data.rooms : [];
    data.waiting = Array.isArray(data.waiting) ? data.waiting : [];
    data.operators = Array.isArray(data.operators) ? data.operators : [];
    data.carriers = Array.isArray(data.carriers) ? data.carriers : [];
    data.service_level = data.service_level || {};
    for (const room of data.rooms) room.operators = room.operators || {};
    return data;
  }

  function countState(model, roomId, state, delta) {
    const room = model.rooms.find((r) => r.id === roomId);
    if (!room || typeof room.operators[state] !== "number") return; // logged_out is not counted
    room.operators[state] = Math.max(0, room.operators[state] + delta);
  }

  // An operator_state event on the overview: the operator's row and their room's counts.
  function applyOperatorState(model, view) {
    let row = model.operators.find((o) => o.endpoint === view.endpoint);
    if (row) {
      const rowSince = Date.parse(row.since);
      const viewSince = Date.parse(view.since);
      if (rowSince > viewSince) return; // the overview already has a newer state
      countState(model, row.room, row.state, -1);
    } else {
      row = { endpoint: view.endpoint, room: view.room, calls_taken: null, talk_s: null,
        pause_s: null, wrapup_s: null };
      model.operators.push(row);
    }
    row.state = view.state;
    row.pause_reason = view.pause_reason || null;
    row.since = view.since;
    if (view.room) row.room = view.room;
    countState(model, row.room, row.state, +1);
  }

  async function poll() {
    if (polling) return; // one overview request at a time
    polling = true;
    const asked = eventSeq;
    try {
      const data = await api("GET", "/supervisor/overview", undefined, "overview");
      if (!data) return;
      errorLine.clear("overview");
      normalise(data);
      // Events that arrived while the request was out are newer than the answer.
      for (const [endpoint, live] of liveStates) {
        if (live.seq <= asked) liveStates.delete(endpoint);
      }
      [...liveStates.values()]
        .sort((a, b) => a.seq - b.seq)
        .forEach((live) => applyOperatorState(data, live.view));
      overview = data;
      receivedAt = Date.now();
      renderAll();
    } finally {
      polling = false;
    }
  }

  function operatorEvent(view) {
    if (!view || !view.endpoint || !view.state) return;
    eventSeq += 1;
    liveStates.set(view.endpoint, { seq: eventSeq, view: view });
    if (!overview) return;
    applyOperatorState(overview, view);
    renderRooms();
    renderOperators();
  }

  // ---------------------------------------------------------------- rendering

  function renderAll() {
    renderGeneratedAt();
    renderServiceLevel();
    renderRooms();
    renderOperators();
    renderCarriers();
  }

  function renderGeneratedAt() {
    if (!overview) return;
    const stale = Date.now() - receivedAt > STALE_MS;
    el.generatedAt.dataset.stale = String(stale);
    const time = formatTime(overview.generated_at);
    if (stale) setBilingual(el.generatedAt, "données périmées " + time, "stale data");
    else setBilingual(el.generatedAt, "données " + time, "data as of");
  }

  function renderTarget(node, pct, target) {
    node.querySelector(".sl-value").textContent = pctText(pct);
    const targetNode = node.querySelector(".sl-target");
    if (typeof target === "number") {
      targetNode.replaceChildren(document.createTextNode("cible " + target + " % "), small("target"));
    } else {
      targetNode.replaceChildren();
    }
    const ok = typeof pct === "number" && typeof target === "number" ? String(pct >= target) : "";
    node.dataset.ok = ok;
    node.classList.toggle("bad", ok === "false");
  }

  function renderServiceLevel() {
    const sl = overview.service_level;
    const root = el.serviceLevel;
    renderTarget(root.querySelector(".sl15"), sl.answered_15s_pct, sl.target_15s_pct);
    renderTarget(root.querySelector(".sl20"), sl.answered_20s_pct, sl.target_20s_pct);
    const abandoned = root.querySelector(".abandoned");
    abandoned.querySelector(".sl-value").textContent = typeof sl.abandoned === "number" ? String(sl.abandoned) : "—";
    abandoned.dataset.count = typeof sl.abandoned === "number" ? String(sl.abandoned) : "";
    abandoned.classList.toggle("warn", sl.abandoned > 0);
    root.querySelector(".sl-calls .sl-value").textContent = typeof sl.calls === "number" ? String(sl.calls) : "—";
    const minutes = typeof sl.window_s === "number" ? Math.round(sl.window_s / 60) : null;
    el.slWindow.textContent = minutes ? "service level, last " + minutes + " min" : "service level";
  }

  function renderRooms() {
    const names = new Map(overview.rooms.map((room) => [room.id, room.name || room.id]));
    const cards = overview.rooms.map((room) => {
      const card = make("article", "room");
      card.dataset.room = room.id;
      const head = make("div", "room-head");
      head.append(make("h3", "room-name", room.name || room.id));
      if (room.backup) {
        const backup = make("span", "room-backup");
        backup.append(document.createTextNode("secours : " + (names.get(room.backup) || room.backup) + " "),
          small("backup"));
        head.append(backup);
      }

      const waitingCount = typeof room.waiting === "number" ? room.waiting : 0;
      const figures = make("div", "room-figures");
      const waiting = make("div", "room-figure waiting", String(waitingCount));
      waiting.dataset.count = String(waitingCount);
      waiting.classList.toggle("busy", waitingCount > 0);
      const waitingBox = make("div", "room-box");
      waitingBox.append(waiting, make("span", "room-figure-label", "en attente"), small("waiting"));

      const longestValue = typeof room.longest_wait_s === "number" ? room.longest_wait_s : null;
      const longest = make("div", "room-figure longest", waitingCount > 0 || longestValue ? waitText(longestValue) : "—");
      const alert = longestValue !== null && longestValue >= LONG_WAIT_S;
      longest.dataset.alert = String(alert);
      longest.classList.toggle("alert", alert);
      card.dataset.alert = String(alert);
      const longestBox = make("div", "room-box");
      longestBox.append(longest, make("span", "room-figure-label", "plus longue attente"), small("longest wait"));
      figures.append(waitingBox, longestBox);

      const states = make("ul", "room-states");
      for (const state of STATES) {
        const count = typeof room.operators[state] === "number" ? room.operators[state] : 0;
        const item = make("li", "room-state");
        item.dataset.state = state;
        item.dataset.count = String(count);
        item.append(make("span", "count", String(count)), document.createTextNode(" " + STATE_LABELS[state] + " "),
          small(STATE_ENGLISH[state]));
        // calls are waiting and nobody is ready to take them
        if (state === "ready") item.classList.toggle("alert", count === 0 && waitingCount > 0);
        states.append(item);
      }

      const calls = make("ul", "waiting-calls");
      for (const call of overview.waiting.filter((w) => w.room === room.id)) {
        const item = make("li", "waiting-call");
        item.dataset.uniqueid = call.uniqueid;
        const wait = make("span", "wait", waitText(call.waited_s));
        wait.classList.toggle("alert", typeof call.waited_s === "number" && call.waited_s >= LONG_WAIT_S);
        item.append(wait, make("span", "prio", "priorité " + (call.priority ?? "—")), make("span", "uid", call.uniqueid));
        calls.append(item);
      }
      card.append(head, figures, states, calls);
      return card;
    });
    if (!cards.length) cards.push(make("p", "none", "Aucune salle (no room)"));
    el.rooms.replaceChildren(...cards);
  }

  function renderOperators() {
    const roomOrder = new Map(overview.rooms.map((room, index) => [room.id, index]));
    const rows = [...overview.operators].sort((a, b) => {
      const ra = roomOrder.has(a.room) ? roomOrder.get(a.room) : 999;
      const rb = roomOrder.has(b.room) ? roomOrder.get(b.room) : 999;
      return ra - rb || String(a.endpoint).localeCompare(String(b.endpoint));
    });
    const trs = rows.map((op) => {
      const tr = make("tr", "operator");
      tr.dataset.endpoint = op.endpoint;
      tr.dataset.state = op.state;
      const state = make("span", "state");
      state.dataset.state = op.state;
      const [french, english] = stateText(op.state, op.pause_reason);
      setBilingual(state, french, english);
      const stateCell = make("td");
      stateCell.append(state);
      const since = make("td", "num since", elapsed(op.since));
      since.dataset.since = op.since || "";
      tr.append(
        make("td", "endpoint", op.endpoint),
        make("td", "op-room", op.room || "—"),
        stateCell,
        since,
        make("td", "num calls-taken", typeof op.calls_taken === "number" ? String(op.calls_taken) : "—"),
        make("td", "num talk", durationText(op.talk_s)),
        make("td", "num pause", durationText(op.pause_s)),
        make("td", "num wrapup", durationText(op.wrapup_s)),
      );
      return tr;
    });
    if (!trs.length) {
      const tr = make("tr", "none");
      const td = make("td", null, "Aucun opérateur en file (no operator in a queue)");
      td.colSpan = 8;
      tr.append(td);
      trs.push(tr);
    }
    el.operators.replaceChildren(...trs);
  }

  function tickSince() {
    for (const cell of el.operators.querySelectorAll("td.since")) {
      if (cell.dataset.since) cell.textContent = elapsed(cell.dataset.since);
    }
  }

  function renderCarriers() {
    const trs = overview.carriers.map((carrier) => {
      const tr = make("tr", "carrier");
      tr.dataset.carrier = carrier.carrier;
      const delay = carrier.aml_median_delay_s;
      tr.append(
        make("td", "name", carrier.carrier),
        make("td", "num calls", typeof carrier.calls === "number" ? String(carrier.calls) : "—"),
        make("td", "num caller-id", pctText(carrier.with_caller_id_pct)),
        make("td", "num cell", pctText(carrier.with_cell_pct)),
        make("td", "num pidf", pctText(carrier.with_pidf_pct)),
        make("td", "num aml-delay", typeof delay === "number" ? (Math.round(delay * 10) / 10).toLocaleString("fr-FR") + " s" : "—"),
      );
      return tr;
    });
    if (!trs.length) {
      const tr = make("tr", "none");
      const td = make("td", null, "Aucun appel sur la période (no calls in the window)");
      td.colSpan = 6;
      tr.append(td);
      trs.push(tr);
    }
    el.carriers.replaceChildren(...trs);
  }

  // ---------------------------------------------------------------- units (map and table)

  let unitsMap = null;
  const unitMarkers = new Map(); // unit id -> Leaflet circleMarker
  let unitsFitted = false; // the map is fitted to the units once, then left to the supervisor
  let unitsPolling = false;

  function setupUnitsMap() {
    const legend = el.unitsSection.querySelector(".legend");
    legend.replaceChildren(
      ...Object.entries(L19Page.UNIT_STATES).map(([state, [french, , colour]]) => {
        const item = make("span");
        item.dataset.state = state;
        const dot = make("i");
        dot.style.background = colour;
        item.append(dot, document.createTextNode(french));
        return item;
      }),
    );
    if (typeof L === "undefined") {
      errorLine.show("Carte indisponible : Leaflet n'a pas chargé — the map library did not load", "units-map");
      return;
    }
    unitsMap = L.map(el.unitsMap, { zoomControl: true, attributionControl: false, zoomSnap: 0.25 });
    L.control.scale({ metric: true, imperial: false, maxWidth: 200 }).addTo(unitsMap);
    unitsMap.setView([33.97, -6.85], 11); // until the units are known
  }

  async function pollUnits() {
    if (unitsPolling) return;
    unitsPolling = true;
    try {
      const data = await api("GET", "/units", undefined, "units");
      if (!data) return;
      errorLine.clear("units");
      const items = Array.isArray(data.items) ? data.items : [];
      renderUnitsTable(items);
      renderUnitMarkers(items);
    } finally {
      unitsPolling = false;
    }
  }

  function renderFixAge(cell) {
    const at = Date.parse(cell.dataset.fixAt);
    if (Number.isNaN(at)) {
      cell.replaceChildren(document.createTextNode("— "), small("no fix"));
      cell.dataset.old = "";
      return;
    }
    const age = (Date.now() - at) / 1000;
    cell.dataset.old = String(age > OLD_FIX_S);
    cell.replaceChildren(document.createTextNode("il y a " + L19Page.ageText(age) + " "), small("ago"));
    if (cell.dataset.placed === "false") cell.append(small(" · not on the map"));
  }

  function hasPlace(unit) {
    return typeof unit.latitude === "number" && typeof unit.longitude === "number";
  }

  function renderUnitsTable(items) {
    const trs = items.map((unit) => {
      const [french, english] = L19Page.unitState(unit.state);
      const tr = make("tr", "unit");
      tr.dataset.unit = String(unit.id);
      tr.dataset.state = unit.state || "";
      const state = make("span", "state unit-state");
      state.dataset.state = unit.state || "";
      setBilingual(state, french, english);
      const stateCell = make("td");
      stateCell.append(state);
      const age = make("td", "num fix-age");
      age.dataset.fixAt = unit.fix_at || "";
      age.dataset.placed = String(hasPlace(unit));
      renderFixAge(age);
      tr.append(
        make("td", "call-sign", unit.call_sign || String(unit.id)),
        make("td", "vehicle", unit.vehicle || "—"),
        stateCell,
        make("td", "home-room", unit.home_room || "—"),
        age,
      );
      return tr;
    });
    if (!trs.length) {
      const tr = make("tr", "none");
      const td = make("td", null, "Aucune unité (no unit)");
      td.colSpan = 5;
      tr.append(td);
      trs.push(tr);
    }
    el.unitsRows.replaceChildren(...trs);
  }

  function tickFixAges() {
    for (const cell of el.unitsRows.querySelectorAll("td.fix-age")) {
      if (cell.dataset.fixAt) renderFixAge(cell);
    }
  }

  function renderUnitMarkers(items) {
    if (!unitsMap) return;
    const seen = new Set();
    for (const unit of items) {
      if (!hasPlace(unit)) continue;
      const id = String(unit.id);
      seen.add(id);
      const [french, english, colour] = L19Page.unitState(unit.state);
      const style = { radius: 8, weight: 3, color: "#000", fillColor: colour, fillOpacity: 0.95 };
      let unitMarker = unitMarkers.get(id);
      if (!unitMarker) {
        unitMarker = L.circleMarker([unit.latitude, unit.longitude], style).addTo(unitsMap);
        unitMarkers.set(id, unitMarker);
      } else {
        unitMarker.setLatLng([unit.latitude, unit.longitude]);
        unitMarker.setStyle(style);
      }
      // an element, not a string: Leaflet would write a string as HTML
      const tip = make("span", null, (unit.call_sign || id) + " — " + french + " (" + english + ")");
      if (unitMarker.getTooltip()) unitMarker.setTooltipContent(tip);
      else unitMarker.bindTooltip(tip);
      const node = unitMarker.getElement();
      node.classList.add("unit-marker");
      for (const name of [...node.classList]) {
        if (name.startsWith("unit-state-")) node.classList.remove(name);
      }
      node.classList.add("unit-state-" + (unit.state || "unknown"));
      node.dataset.unit = id;
      node.dataset.state = unit.state || "";
    }
    for (const [id, unitMarker] of [...unitMarkers]) {
      if (!seen.has(id)) {
        unitMarker.remove();
        unitMarkers.delete(id);
      }
    }
    if (!unitsFitted && unitMarkers.size) {
      unitsFitted = true;
      const bounds = L.latLngBounds([...unitMarkers.values()].map((m) => m.getLatLng()));
      unitsMap.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
    }
  }

  // ---------------------------------------------------------------- live updates (SSE)

  const live = L19Page.stream({
    api: api,
    setConnection: setConnection,
    onOpen: poll, // anything missed while the stream was down
    meOrigin: "stream",
    reconnectDelayMs: RECONNECT_DELAY_MS,
    listeners: {
      operator_state: (event) => {
        let view = null;
        try {
          view = JSON.parse(event.data);
        } catch (_) {
          errorLine.show("Événement illisible — unreadable operator_state event", "stream");
          return;
        }
        operatorEvent(view);
      },
    },
  });

  // ---------------------------------------------------------------- start

  async function start() {
    const me = await api("GET", "/me");
    if (!me || !me.user) return; // 401: already on the way to /login
    const user = me.user;
    setBilingual(el.whoami, user.display_name || user.username, [user.role, user.room].filter(Boolean).join(" · "));
    setupUnitsMap();
    await poll();
    live.connect();
    setInterval(poll, POLL_MS);
    pollUnits();
    setInterval(pollUnits, UNITS_POLL_MS);
  }

  $("btn-signout").addEventListener("click", async () => {
    live.close();
    await api("POST", "/logout");
    goToLogin();
  });
  setInterval(() => {
    tickSince();
    tickFixAges();
    renderGeneratedAt();
    live.tick();
  }, 1000);
  window.addEventListener("resize", () => {
    if (unitsMap) unitsMap.invalidateSize();
  });
  start();
})();
