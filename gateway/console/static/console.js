// Line 19 — operator console. Plain JS, no build step, no framework.
// The API contract it codes against is in docs/console.md. Every text that comes from the
// server is written with textContent, never as HTML.
"use strict";

(function () {
  const RECONNECT_DELAY_MS = 2000; // when the browser gave up on the stream (non-200 answer)
  const WAITING_POLL_MS = 3000; // the room's waiting calls
  const CALLBACKS_POLL_MS = 5000; // the room's callback list
  const LONG_WAIT_S = 15; // a call waiting this long is shown in red (NENA: 90 % within 15 s)

  const { STATE_LABELS, PAUSE_LABELS } = L19Page;
  const STATE_ENGLISH = Object.assign({}, L19Page.STATE_ENGLISH, { unreachable: "unreachable (softphone)" });
  const CALL_STATUS_LABELS = {
    received: "reçu",
    queued: "en attente",
    ringing: "sonne",
    answered: "décroché",
    abandoned: "raccroché avant réponse",
    completed: "terminé",
  };
  const CALLBACK_OUTCOMES = [
    // [outcome, French, English, button class]
    ["reached", "Joint", "reached", "btn-go"],
    ["no_answer", "Pas de réponse", "no answer", ""],
    ["busy", "Occupé", "busy", ""],
    ["wrong_number", "Faux numéro", "wrong number", "btn-warn"],
  ];
  const OUTCOME_LABELS = {
    reached: "joint",
    no_answer: "pas de réponse",
    busy: "occupé",
    wrong_number: "faux numéro",
  };

  const $ = (id) => document.getElementById(id);
  const el = {
    whoami: $("whoami"),
    state: $("state"),
    since: $("state-since"),
    conn: $("conn"),
    error: $("error"),
    idle: $("idle"),
    pop: $("pop"),
    number: $("pop-number"),
    flags: $("pop-flags"),
    location: $("pop-location"),
    locationFlash: $("pop-location-flash"),
    status: $("pop-status"),
    carrier: $("pop-carrier"),
    language: $("pop-language"),
    priority: $("pop-priority"),
    room: $("pop-room"),
    callId: $("pop-call-id"),
    earlier: $("pop-earlier"),
    pauseReason: $("pause-reason"),
    incidentForm: $("incident-form"),
    incidentId: $("incident-id"),
    incidentCategory: $("incident-category"),
    incidentPriority: $("incident-priority"),
    incidentAddress: $("incident-address"),
    incidentDescription: $("incident-description"),
    incidentSave: $("btn-save-incident"),
    incidentSaved: $("incident-saved"),
    waiting: $("waiting"),
    waitingCount: $("waiting-count"),
    waitingRoom: $("waiting-room"),
    waitingList: $("waiting-list"),
    callbacks: $("callbacks"),
    callbacksCount: $("callbacks-count"),
    callbacksRoom: $("callbacks-room"),
    callbacksList: $("callbacks-list"),
    dispatch: $("dispatch"),
    dispatchIncident: $("dispatch-incident"),
    confirm: $("btn-confirm"),
    incidentStatus: $("incident-status"),
    unitsNote: $("units-note"),
    units: $("units"),
    dispatchButton: $("btn-dispatch"),
    assignment: $("assignment"),
  };
  const stateButtons = {
    login: $("btn-login"),
    ready: $("btn-ready"),
    pause: $("btn-pause"),
    wrapup: $("btn-wrapup"),
    logout: $("btn-logout"),
  };

  let operator = null; // the last state object: {endpoint, room, state, pause_reason, since}
  let operatorVersion = 0; // counts the state news from events and actions
  let currentCall = null; // the call on screen (CallOut shape)
  let statusTrail = []; // the call statuses seen for the call on screen, in order
  let map = null;
  let marker = null;
  let circle = null;
  let flashTimer = null;
  let busy = false;
  let user = null; // the signed-in user (GET /me)
  let room = null; // the room of the side panels: the operator's room
  let waitingInFlight = false;
  let callbacksInFlight = false;
  let callbacksAgain = false; // a refresh was asked while one was in flight
  const callbackNodes = new Map(); // callback id -> {signature, node}
  const pendingAttempts = new Set(); // callback ids with an attempt being posted
  let unitLayer = null; // the recommended units on the map (Leaflet layer group)
  let recommendationSeq = 0; // counts the recommendation reads: an older answer is dropped
  let dispatchBusy = false; // a confirm or a dispatch is being sent

  // ---------------------------------------------------------------- small helpers

  const { small, setBilingual, elapsed, formatTime, goToLogin } = L19Page;
  const { distanceText, minutesText, ageText } = L19Page;
  const errorLine = L19Page.errors(el.error); // a poll that works again clears its own error
  const showError = errorLine.show;
  const clearError = errorLine.clear;
  const api = L19Page.api(errorLine);
  const setConnection = L19Page.connectionBadge(el.conn);

  function formatDateTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return date.toLocaleString("fr-FR", {
      day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit",
    });
  }

  // ---------------------------------------------------------------- operator state

  function renderOperator(view) {
    if (!view || !view.state) return;
    operator = view;
    const state = view.state;
    let french = STATE_LABELS[state] || state;
    let english = STATE_ENGLISH[state] || state;
    if (state === "paused" && view.pause_reason) {
      french += " — " + (PAUSE_LABELS[view.pause_reason] || view.pause_reason);
      english += ": " + view.pause_reason;
    }
    setBilingual(el.state, french, english);
    el.state.dataset.state = state;
    document.body.dataset.operatorState = state;
    renderSince();
    updateButtons();
    setRoom(view.room || (user && user.room) || null);
  }

  function renderSince() {
    if (!operator || !operator.since) {
      el.since.textContent = "";
      return;
    }
    el.since.textContent = "depuis " + elapsed(operator.since) + " · " + formatTime(operator.since);
  }

  function updateButtons() {
    const state = operator ? operator.state : null;
    const loggedOut = state === "logged_out" || state === null;
    stateButtons.login.disabled = busy || !loggedOut;
    stateButtons.ready.disabled = busy || loggedOut;
    stateButtons.pause.disabled = busy || loggedOut;
    stateButtons.wrapup.disabled = busy || loggedOut;
    stateButtons.logout.disabled = busy || loggedOut;
    el.pauseReason.disabled = busy || loggedOut;
    for (const [action, button] of Object.entries(stateButtons)) {
      button.classList.toggle("current", action === state || (action === "pause" && state === "paused"));
    }
  }

  // A re-fetch must not undo a newer event: if an operator_state event or an action's answer
  // arrived while the GET was in flight, the GET's answer is older and is dropped.
  async function refreshOperator() {
    const asked = operatorVersion;
    const view = await api("GET", "/operators/me");
    if (view && asked === operatorVersion) renderOperator(view);
  }

  function operatorNews(view) {
    operatorVersion += 1;
    renderOperator(view);
  }

  async function operatorAction(action) {
    if (busy) return;
    busy = true;
    updateButtons();
    clearError();
    const body = action === "pause" ? { reason: el.pauseReason.value } : undefined;
    try {
      const view = await api("POST", "/operators/me/" + action, body);
      if (view) operatorNews(view);
    } finally {
      busy = false;
      updateButtons();
    }
  }

  // ---------------------------------------------------------------- the screen-pop

  function flag(text, kind) {
    const node = document.createElement("span");
    node.className = "flag flag-" + kind;
    node.textContent = text;
    return node;
  }

  function callerNumber(call) {
    const caller = call.caller || {};
    if (caller.e164) return caller.e164;
    if (caller.raw) return caller.raw;
    if (caller.status === "withheld") return "Numéro masqué (withheld)";
    return "Numéro inconnu (unknown)";
  }

  function renderPop(call, earlierCalls) {
    // The same call popped again (e.g. re-sent after a reconnect): keep what the operator
    // typed and the status trail; a new call starts from a clean screen.
    const sameCall = currentCall !== null && currentCall.id === call.id;
    currentCall = call;
    if (!sameCall) statusTrail = [];
    const caller = call.caller || {};
    el.idle.hidden = true;
    el.pop.hidden = false;
    el.pop.dataset.callId = call.id;

    el.number.textContent = callerNumber(call);
    el.number.classList.toggle("invalid", caller.status && caller.status !== "valid");

    const flags = [];
    if (call.silent) flags.push(flag("SILENCIEUX · SILENT", "red"));
    const repeats = caller.repeat_count_24h || 0;
    if (repeats > 0) flags.push(flag("RAPPEL ×" + repeats + " · REPEAT", "red"));
    if (call.no_input) flags.push(flag("SANS RÉPONSE SVI · NO INPUT", "amber"));
    if (caller.foreign) flags.push(flag("ÉTRANGER · FOREIGN", "amber"));
    if (caller.status === "withheld") flags.push(flag("MASQUÉ · WITHHELD", "amber"));
    el.flags.replaceChildren(...flags);

    const carrier = caller.carrier || call.carrier || "—";
    el.carrier.textContent = carrier + (call.trunk ? " (" + call.trunk + ")" : "");
    el.language.textContent = call.language || "—";
    const reasons = call.priority_reasons || [];
    el.priority.textContent = String(call.priority) + (reasons.length ? " — " + reasons.join(", ") : "");
    el.room.textContent = call.room || "—";
    el.callId.textContent = call.id;

    renderEarlier(earlierCalls || []);
    renderStatus(call.status, call.operator);
    if (!sameCall) el.locationFlash.hidden = true;
    showMap();
    renderLocation(call.best_location);
    renderIncidentForm(call, sameCall);
    renderDispatch(call, sameCall);
  }

  function renderEarlier(earlierCalls) {
    if (!earlierCalls.length) {
      const item = document.createElement("li");
      item.className = "none";
      item.textContent = "Aucun (none)";
      el.earlier.replaceChildren(item);
      return;
    }
    el.earlier.replaceChildren(
      ...earlierCalls.map((earlier) => {
        const item = document.createElement("li");
        item.dataset.callId = earlier.id;
        const when = document.createElement("span");
        when.className = "when";
        when.textContent = formatDateTime(earlier.received_at);
        const status = document.createElement("span");
        status.className = "outcome outcome-" + earlier.status;
        status.textContent = (CALL_STATUS_LABELS[earlier.status] || earlier.status) + " (" + earlier.status + ")";
        const who = document.createElement("span");
        who.className = "who";
        who.textContent = earlier.operator ? earlier.operator : "";
        item.append(when, status, who);
        return item;
      }),
    );
  }

  function renderStatus(status, operatorName) {
    if (!status) return;
    if (statusTrail[statusTrail.length - 1] !== status) statusTrail.push(status);
    const french = statusTrail.map((s) => CALL_STATUS_LABELS[s] || s).join(" → ");
    let english = statusTrail.join(" → ");
    if (operatorName) english += " — " + operatorName;
    setBilingual(el.status, french, english);
    el.status.dataset.status = status;
    el.pop.dataset.status = status;
  }

  // ---------------------------------------------------------------- the map (no tile layer)

  function showMap() {
    if (typeof L === "undefined") {
      showError("Carte indisponible : Leaflet n'a pas chargé — the map library did not load");
      return;
    }
    if (!map) {
      map = L.map("map", { zoomControl: true, attributionControl: false, zoomSnap: 0.25 });
      L.control.scale({ metric: true, imperial: false, maxWidth: 200 }).addTo(map);
      map.setView([0, 0], 2);
    }
    map.invalidateSize();
  }

  function hasPosition(location) {
    return (
      location &&
      typeof location.latitude === "number" &&
      typeof location.longitude === "number"
    );
  }

  function locationText(location) {
    const lat = location.latitude.toFixed(5);
    const lon = location.longitude.toFixed(5);
    const radius = typeof location.radius_m === "number" ? " ± " + Math.round(location.radius_m) + " m" : "";
    return lat + ", " + lon + radius + " (" + (location.source || "?") + ")";
  }

  function renderLocation(location) {
    if (currentCall) currentCall.best_location = location || null;
    if (!hasPosition(location)) {
      el.location.textContent = "location pending";
      el.location.classList.add("pending");
      el.pop.dataset.location = "pending";
      if (map) {
        if (marker) marker.remove();
        if (circle) circle.remove();
        marker = null;
        circle = null;
      }
      return;
    }
    el.location.textContent = locationText(location);
    el.location.classList.remove("pending");
    el.pop.dataset.location = location.source || "";
    if (!map) return;
    const point = L.latLng(location.latitude, location.longitude);
    const radius = typeof location.radius_m === "number" && location.radius_m > 0 ? location.radius_m : null;
    if (!marker) {
      marker = L.marker(point, { title: "appelant (caller)", keyboard: false }).addTo(map);
    } else {
      marker.setLatLng(point);
    }
    if (radius) {
      if (!circle) {
        circle = L.circle(point, {
          radius: radius, color: "#ff3b30", weight: 3, fillColor: "#ff3b30", fillOpacity: 0.15,
        }).addTo(map);
      } else {
        circle.setLatLng(point);
        circle.setRadius(radius);
      }
      map.fitBounds(point.toBounds(radius * 2), { padding: [30, 30] });
    } else {
      if (circle) circle.remove();
      circle = null;
      map.setView(point, 16);
    }
    fitUnits();
  }

  function flashLocation(location) {
    el.locationFlash.textContent = "position mise à jour — location updated (" + (location.source || "?") + ")";
    el.locationFlash.hidden = false;
    el.locationFlash.classList.remove("flashing");
    void el.locationFlash.offsetWidth; // restart the CSS animation
    el.locationFlash.classList.add("flashing");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      el.locationFlash.hidden = true;
    }, 10000);
  }

  // ---------------------------------------------------------------- the incident form

  function renderIncidentForm(call, keepInput) {
    el.incidentForm.hidden = false;
    el.incidentForm.dataset.incidentId = call.incident_id || "";
    el.incidentId.textContent = call.incident_id ? call.incident_id : "pas encore créé (not created yet)";
    el.incidentSave.disabled = !call.incident_id;
    if (keepInput) return;
    el.incidentSaved.hidden = true;
    el.incidentCategory.value = "";
    el.incidentPriority.value = String(call.priority || "");
    el.incidentAddress.value = "";
    el.incidentDescription.value = "";
  }

  async function saveIncident(event) {
    event.preventDefault();
    const incidentId = el.incidentForm.dataset.incidentId;
    if (!incidentId) {
      showError("Pas d'incident pour cet appel — this call has no incident yet");
      return;
    }
    clearError();
    el.incidentSaved.hidden = true;
    const priority = Number.parseInt(el.incidentPriority.value, 10);
    const body = {
      category: el.incidentCategory.value || null,
      priority: Number.isNaN(priority) ? null : priority,
      address: el.incidentAddress.value.trim() || null,
      description: el.incidentDescription.value.trim() || null,
    };
    el.incidentSave.disabled = true;
    try {
      const saved = await api("PUT", "/incidents/" + encodeURIComponent(incidentId), body);
      if (saved !== null) {
        el.incidentSaved.textContent = "Enregistré " + formatTime(new Date().toISOString()) + " (saved)";
        el.incidentSaved.hidden = false;
      }
    } finally {
      el.incidentSave.disabled = false;
    }
  }

  // ---------------------------------------------------------------- the dispatch panel

  function incidentPath(incidentId, what) {
    return "/incidents/" + encodeURIComponent(incidentId) + "/" + what;
  }

  function currentIncident() {
    return currentCall && currentCall.incident_id ? currentCall.incident_id : null;
  }

  function renderDispatch(call, sameCall) {
    if (!call.incident_id) {
      el.dispatch.hidden = true;
      clearUnitMarkers();
      return;
    }
    el.dispatch.hidden = false;
    el.dispatch.dataset.incidentId = call.incident_id;
    el.dispatchIncident.textContent = "incident " + call.incident_id;
    if (!sameCall) {
      el.incidentStatus.textContent = "";
      el.incidentStatus.dataset.status = "";
      el.assignment.hidden = true;
      el.assignment.textContent = "";
      el.units.replaceChildren();
      clearUnitMarkers();
    }
    updateDispatchButtons();
    loadRecommendations();
  }

  function updateDispatchButtons() {
    const none = !currentIncident();
    el.confirm.disabled = dispatchBusy || none;
    el.dispatchButton.disabled = dispatchBusy || none;
  }

  async function confirmIncident() {
    const incidentId = currentIncident();
    if (!incidentId || dispatchBusy) return;
    dispatchBusy = true;
    updateDispatchButtons();
    clearError();
    try {
      const answer = await api("POST", incidentPath(incidentId, "confirm"), undefined, "confirm");
      if (answer && incidentId === currentIncident()) {
        el.incidentStatus.dataset.status = answer.status || "";
        setBilingual(
          el.incidentStatus,
          "Confirmé " + formatTime(answer.at) + (answer.by ? " par " + answer.by : ""),
          (answer.status || "confirmed") + (answer.previous ? " (was " + answer.previous + ")" : ""),
        );
      }
    } finally {
      dispatchBusy = false;
      updateDispatchButtons();
    }
    loadRecommendations();
  }

  async function dispatchUnit() {
    const incidentId = currentIncident();
    if (!incidentId || dispatchBusy) return;
    dispatchBusy = true;
    updateDispatchButtons();
    clearError();
    try {
      const answer = await api("POST", incidentPath(incidentId, "dispatch"), undefined, "dispatch");
      if (answer && incidentId === currentIncident()) renderAssignment(answer);
    } finally {
      dispatchBusy = false;
      updateDispatchButtons();
    }
    loadRecommendations();
  }

  function renderAssignment(assignment) {
    const callSign = assignment.call_sign || String(assignment.unit_id);
    const until = formatTime(assignment.deadline_at);
    el.assignment.dataset.state = assignment.state || "";
    el.assignment.dataset.unit = String(assignment.unit_id ?? "");
    el.assignment.dataset.assignmentId = String(assignment.assignment_id ?? "");
    setBilingual(
      el.assignment,
      "Proposé à " + callSign + " — attente d'acquittement jusqu'à " + until,
      "proposed to " + callSign + ", waiting for acknowledgement until " + until,
    );
    el.assignment.hidden = false;
  }

  // GET …/recommendations; a 422 no-incident-location is said in the panel, not as an error.
  async function loadRecommendations() {
    const incidentId = currentIncident();
    if (!incidentId) return;
    recommendationSeq += 1;
    const asked = recommendationSeq;
    const answer = await L19Page.request("GET", incidentPath(incidentId, "recommendations"));
    if (asked !== recommendationSeq || incidentId !== currentIncident()) return; // overtaken
    if (!answer.ok) {
      if (answer.status === 401) return;
      if (answer.code === "no-incident-location") {
        clearError("recommendations");
        el.units.replaceChildren();
        el.units.dataset.count = "0";
        setUnitsNote("Pas encore de position pour cet appel", "no location yet: no unit can be recommended");
        clearUnitMarkers();
        return;
      }
      showError(answer.text, "recommendations");
      return;
    }
    clearError("recommendations");
    const candidates = Array.isArray(answer.data && answer.data.candidates) ? answer.data.candidates : [];
    renderCandidates(candidates);
    drawUnitMarkers(candidates);
  }

  function setUnitsNote(french, english) {
    if (french === null) {
      el.unitsNote.hidden = true;
      el.unitsNote.textContent = "";
      return;
    }
    setBilingual(el.unitsNote, french, english);
    el.unitsNote.hidden = false;
  }

  function renderCandidates(candidates) {
    el.units.dataset.count = String(candidates.length);
    if (!candidates.length) {
      setUnitsNote("Aucune unité disponible", "no unit available");
      el.units.replaceChildren();
      return;
    }
    setUnitsNote(null);
    el.units.replaceChildren(
      ...candidates.map((unit) => {
        const item = document.createElement("li");
        item.className = "unit";
        item.dataset.unit = String(unit.unit_id);
        item.dataset.stale = String(Boolean(unit.stale));
        const head = document.createElement("div");
        head.className = "unit-head";
        const callSign = document.createElement("span");
        callSign.className = "unit-call-sign";
        callSign.textContent = unit.call_sign || String(unit.unit_id);
        const vehicle = document.createElement("span");
        vehicle.className = "unit-vehicle";
        vehicle.textContent = unit.vehicle || "";
        const eta = document.createElement("span");
        eta.className = "unit-eta";
        eta.append(document.createTextNode(minutesText(unit.eta_s) + " "), small("ETA"));
        const distance = document.createElement("span");
        distance.className = "unit-distance";
        distance.append(
          document.createTextNode(distanceText(unit.distance_m) + " "),
          small(unit.by_road ? "par la route · by road" : "à vol d'oiseau · straight line"),
        );
        head.append(callSign, vehicle, eta, distance);
        if (unit.stale) {
          const stale = flag("POSITION ANCIENNE · STALE " + ageText(unit.fix_age_s), "amber");
          stale.classList.add("unit-stale");
          head.append(stale);
        }
        const reason = document.createElement("div");
        reason.className = "unit-reason";
        reason.textContent = unit.reason || "";
        item.append(head, reason);
        return item;
      }),
    );
  }

  // The recommended units on the map, beside the caller's circle. The candidates may carry
  // their place (latitude/longitude); if not, it is read from GET /api/v1/units.
  async function drawUnitMarkers(candidates) {
    if (!map || typeof L === "undefined") return;
    const asked = recommendationSeq;
    let places = new Map();
    const missing = candidates.some((unit) => typeof unit.latitude !== "number");
    if (candidates.length && missing) {
      const answer = await L19Page.request("GET", "/units");
      if (asked !== recommendationSeq) return;
      const items = answer.ok && answer.data && Array.isArray(answer.data.items) ? answer.data.items : [];
      places = new Map(items.map((unit) => [String(unit.id), unit]));
    }
    clearUnitMarkers();
    unitLayer = L.layerGroup().addTo(map);
    candidates.forEach((unit, index) => {
      const place = typeof unit.latitude === "number" ? unit : places.get(String(unit.unit_id));
      if (!place || typeof place.latitude !== "number" || typeof place.longitude !== "number") return;
      const label = document.createElement("span");
      label.textContent = String(index + 1) + " " + (unit.call_sign || unit.unit_id);
      const icon = L.divIcon({
        className: "unit-marker" + (unit.stale ? " unit-marker-stale" : ""),
        html: label,
        iconSize: null,
      });
      const unitMarker = L.marker([place.latitude, place.longitude], {
        icon: icon, keyboard: false, title: (unit.call_sign || unit.unit_id) + " (" + (unit.vehicle || "unit") + ")",
      }).addTo(unitLayer);
      unitMarker.getElement().dataset.unit = String(unit.unit_id);
    });
    fitUnits();
  }

  function clearUnitMarkers() {
    if (unitLayer) unitLayer.remove();
    unitLayer = null;
  }

  // Keeps the caller's circle and the recommended units in view.
  function fitUnits() {
    if (!map || !unitLayer || !marker) return;
    const points = unitLayer.getLayers().map((layer) => layer.getLatLng());
    if (!points.length) return;
    let bounds = circle ? circle.getBounds() : L.latLngBounds([marker.getLatLng()]);
    for (const point of points) bounds = bounds.extend(point);
    map.fitBounds(bounds, { padding: [40, 40], maxZoom: 16 });
  }

  // ---------------------------------------------------------------- the room's panels

  function setRoom(newRoom) {
    if (!newRoom || newRoom === room) return;
    room = newRoom;
    el.waitingRoom.textContent = "salle " + room;
    el.callbacksRoom.textContent = "salle " + room;
    el.waiting.hidden = false;
    el.callbacks.hidden = false;
    callbackNodes.clear();
    el.callbacksList.replaceChildren();
    pollWaiting();
    pollCallbacks();
  }

  function setCount(node, count) {
    node.textContent = String(count);
    node.dataset.count = String(count);
  }

  // A wait: "12 s" under a minute, then "01:15".
  function waitText(seconds) {
    if (typeof seconds !== "number") return "—";
    if (seconds < 60) return Math.floor(seconds) + " s";
    const m = Math.floor(seconds / 60);
    return String(m).padStart(2, "0") + ":" + String(Math.floor(seconds - m * 60)).padStart(2, "0");
  }

  function emptyItem(french, english) {
    const item = document.createElement("li");
    item.className = "none";
    setBilingual(item, french, english);
    return item;
  }

  async function pollWaiting() {
    if (!room || waitingInFlight) return;
    waitingInFlight = true;
    const asked = room;
    try {
      const data = await api("GET", "/rooms/" + encodeURIComponent(asked) + "/waiting", undefined, "waiting");
      if (!data || asked !== room) return;
      clearError("waiting");
      renderWaiting(Array.isArray(data.items) ? data.items : []);
    } finally {
      waitingInFlight = false;
    }
  }

  function renderWaiting(items) {
    setCount(el.waitingCount, items.length);
    el.waitingCount.classList.toggle("busy", items.length > 0);
    if (!items.length) {
      el.waitingList.replaceChildren(emptyItem("Aucun appel en attente", "no call waiting"));
      return;
    }
    el.waitingList.replaceChildren(
      ...items.map((call) => {
        const item = document.createElement("li");
        item.className = "waiting-call";
        item.dataset.uniqueid = call.uniqueid;
        const wait = document.createElement("span");
        wait.className = "wait";
        wait.textContent = waitText(call.waited_s);
        const long = typeof call.waited_s === "number" && call.waited_s >= LONG_WAIT_S;
        wait.classList.toggle("alert", long);
        item.dataset.alert = String(long);
        const prio = document.createElement("span");
        prio.className = "prio";
        prio.textContent = "priorité " + (call.priority ?? "—");
        const uid = document.createElement("small");
        uid.className = "uid";
        uid.textContent = call.uniqueid;
        item.append(wait, prio, uid);
        return item;
      }),
    );
  }

  async function pollCallbacks() {
    if (!room) return;
    if (callbacksInFlight) {
      callbacksAgain = true;
      return;
    }
    callbacksInFlight = true;
    const asked = room;
    try {
      const data = await api("GET", "/callbacks?room=" + encodeURIComponent(asked), undefined, "callbacks");
      if (!data || asked !== room) return;
      clearError("callbacks");
      renderCallbacks(Array.isArray(data.items) ? data.items : []);
    } finally {
      callbacksInFlight = false;
      if (callbacksAgain) {
        callbacksAgain = false;
        pollCallbacks();
      }
    }
  }

  // Keyed: an item whose data did not change keeps its node, so a button the operator is
  // about to press is not replaced under the pointer by a poll.
  function renderCallbacks(items) {
    setCount(el.callbacksCount, items.length);
    const seen = new Set();
    const nodes = items.map((item) => {
      seen.add(item.id);
      return callbackNode(item);
    });
    for (const id of [...callbackNodes.keys()]) {
      if (!seen.has(id)) callbackNodes.delete(id);
    }
    if (!nodes.length) nodes.push(emptyItem("Aucun rappel à faire", "no callback to make"));
    const list = el.callbacksList;
    nodes.forEach((node, index) => {
      if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null);
    });
    while (list.children.length > nodes.length) list.lastElementChild.remove();
  }

  function callbackNode(item) {
    const signature = JSON.stringify(item);
    const known = callbackNodes.get(item.id);
    if (known && known.signature === signature) return known.node;
    const node = known ? known.node : document.createElement("li");
    fillCallback(node, item);
    callbackNodes.set(item.id, { signature: signature, node: node });
    return node;
  }

  function fillCallback(node, item) {
    node.className = "callback";
    node.dataset.callbackId = item.id;
    node.dataset.reason = item.reason || "";
    const attempts = Array.isArray(item.attempts) ? item.attempts : [];
    node.dataset.attempts = String(attempts.length);

    const head = document.createElement("div");
    head.className = "cb-head";
    const number = document.createElement("span");
    number.className = "cb-number";
    number.textContent = item.number || "Numéro inconnu (unknown)";
    head.append(number);
    if (item.reason === "silent") head.append(flag("SILENCIEUX · SILENT", "red"));
    else if (item.reason === "abandoned") head.append(flag("RACCROCHÉ · ABANDONED", "amber"));
    else if (item.reason) head.append(flag(String(item.reason).toUpperCase(), "amber"));
    const when = document.createElement("span");
    when.className = "cb-when";
    when.append(document.createTextNode(formatDateTime(item.created_at) + " "), small("call " + (item.call_id || "?")));
    head.append(when);

    const tried = document.createElement("ol");
    tried.className = "cb-attempts";
    for (const attempt of attempts) {
      const line = document.createElement("li");
      line.dataset.outcome = attempt.outcome;
      line.className = "outcome-" + attempt.outcome;
      const french = OUTCOME_LABELS[attempt.outcome] || attempt.outcome;
      line.append(
        document.createTextNode(formatDateTime(attempt.at) + " · " + (attempt.operator || "?") + " · " + french + " "),
        small(attempt.outcome),
      );
      tried.append(line);
    }

    const actions = document.createElement("div");
    actions.className = "cb-actions";
    const reached = attempts.some((attempt) => attempt.outcome === "reached");
    for (const [outcome, french, english, kind] of CALLBACK_OUTCOMES) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = ("btn " + kind).trim();
      button.dataset.outcome = outcome;
      button.disabled = reached || pendingAttempts.has(item.id);
      setBilingual(button, french, english);
      button.addEventListener("click", () => recordAttempt(item.id, outcome));
      actions.append(button);
    }
    node.classList.toggle("done", reached);
    node.replaceChildren(head, tried, actions);
  }

  async function recordAttempt(callbackId, outcome) {
    if (pendingAttempts.has(callbackId)) return;
    pendingAttempts.add(callbackId);
    const known = callbackNodes.get(callbackId);
    if (known) known.node.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    clearError();
    let updated = null;
    try {
      updated = await api("POST", "/callbacks/" + encodeURIComponent(callbackId) + "/attempts",
        { outcome: outcome }, "callback-attempt");
    } finally {
      pendingAttempts.delete(callbackId);
    }
    const current = callbackNodes.get(callbackId);
    if (current && updated && updated.cleared) {
      // The gateway's answer for a callback no longer open ("reached"): {id, cleared: true}.
      markCleared(current);
    } else if (current && updated && updated.id === callbackId) {
      callbackNode(updated); // shows the attempt at once
    } else if (current) {
      fillCallback(current.node, JSON.parse(current.signature)); // buttons back
    }
    pollCallbacks(); // a callback cleared leaves the list
  }

  function markCleared(known) {
    known.signature = "cleared"; // a poll that still lists it renders it again from its data
    known.node.classList.add("done");
    known.node.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    const note = document.createElement("p");
    note.className = "cb-cleared";
    setBilingual(note, "Traité — retiré de la liste", "done, off the list");
    known.node.append(note);
  }

  // ---------------------------------------------------------------- live updates (SSE)

  function parseData(event) {
    try {
      return JSON.parse(event.data);
    } catch (_) {
      showError("Événement illisible — unreadable " + event.type + " event");
      return null;
    }
  }

  const live = L19Page.stream({
    api: api,
    setConnection: setConnection,
    onOpen: refreshOperator, // anything missed while the stream was down
    reconnectDelayMs: RECONNECT_DELAY_MS,
    listeners: {
      operator_state: (event) => {
        const view = parseData(event);
        if (view) operatorNews(view);
      },
      screen_pop: (event) => {
        const data = parseData(event);
        if (data && data.call) renderPop(data.call, data.earlier_calls);
      },
      location: (event) => {
        const data = parseData(event);
        if (!data || !currentCall || data.call_id !== currentCall.id) return;
        renderLocation(data.best_location);
        if (hasPosition(data.best_location)) {
          flashLocation(data.best_location);
          loadRecommendations(); // the best fix moved: the nearest units may have changed
        }
      },
      call_update: (event) => {
        const data = parseData(event);
        if (!data || !currentCall || data.call_id !== currentCall.id) return;
        currentCall.status = data.status;
        renderStatus(data.status, data.operator);
      },
    },
  });

  // ---------------------------------------------------------------- start

  async function start() {
    const me = await api("GET", "/me");
    if (!me || !me.user) return; // 401: already on the way to /login
    user = me.user;
    setBilingual(
      el.whoami,
      user.display_name || user.username,
      [user.endpoint, user.room].filter(Boolean).join(" · "),
    );
    await refreshOperator();
    live.connect();
  }

  for (const [action, button] of Object.entries(stateButtons)) {
    button.addEventListener("click", () => operatorAction(action));
  }
  $("btn-signout").addEventListener("click", async () => {
    live.close();
    await api("POST", "/logout");
    goToLogin();
  });
  el.incidentForm.addEventListener("submit", saveIncident);
  el.confirm.addEventListener("click", confirmIncident);
  el.dispatchButton.addEventListener("click", dispatchUnit);
  setInterval(pollWaiting, WAITING_POLL_MS);
  setInterval(pollCallbacks, CALLBACKS_POLL_MS);
  setInterval(() => {
    renderSince();
    live.tick();
  }, 1000);
  window.addEventListener("resize", () => {
    if (map) map.invalidateSize();
  });
  updateButtons();
  start();
})();
