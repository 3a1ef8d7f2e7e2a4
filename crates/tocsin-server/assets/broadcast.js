// The broadcast composer: counts each text's SMS length as it is typed (GSM 03.38 7-bit with
// its extension table, else UCS-2; 160/153 septets or 70/67 UTF-16 units per segment), and
// turns the banner to TEST or LIVE as the mode changes. The server measures again.
//
// With MapLibre and WebGL2 (the offline basemap of map.js), the area is drawn: each click on
// the map adds a polygon corner (with "Circle" chosen: sets the centre), undo and clear
// buttons, the typed corners field kept in step both ways (it is what the form sends, and
// what a browser without WebGL or JavaScript types into). Each change of the area or mode
// asks POST /api/v1/broadcasts/estimate for the figures (recipients, subscribers in the area,
// km², corners kept once simplified, time per gateway) and draws the simplified polygon the
// server would store. Text goes in through textContent only.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "\f^{}\\[~]|€";
  function measure(text) {
    var septets = 0, gsm = true;
    for (var ch of text) {
      if (BASIC.indexOf(ch) >= 0) septets += 1;
      else if (EXT.indexOf(ch) >= 0) septets += 2;
      else { gsm = false; break; }
    }
    var units = gsm ? septets : text.length;
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : (units <= single ? 1 : Math.ceil(units / part));
    return { enc: gsm ? "GSM 7-bit" : "UCS-2", units: units, segments: segments };
  }
  // The page's words, in its language (data-* of #broadcast-strings; English without it).
  var words = (document.getElementById("broadcast-strings") || { dataset: {} }).dataset;
  function say(key, fallback, args) {
    var s = words[key] || fallback;
    return s.replace(/\{(\w+)\}/g, function (m, n) { return args && n in args ? String(args[n]) : m; });
  }
  document.querySelectorAll("textarea[data-sms-count]").forEach(function (ta) {
    var out = document.getElementById(ta.getAttribute("data-sms-count"));
    function update() {
      var m = measure(ta.value.replace(/\r\n/g, "\n"));
      out.textContent = m.units ? say("units", "{units} {encoding} units · {segments} SMS", { units: m.units, encoding: m.enc, segments: m.segments }) +
        (m.segments > 6 ? " — " + say("tooLong", "too long (at most 6)") : "") : "";
      out.classList.toggle("error", m.segments > 6);
    }
    ta.addEventListener("input", update);
    update();
  });
  var banner = document.getElementById("mode-banner");
  document.querySelectorAll("input[name=mode]").forEach(function (r) {
    r.addEventListener("change", function () {
      if (!r.checked) return;
      banner.className = "mode-banner mode-" + r.value;
      banner.textContent = banner.getAttribute("data-" + r.value);
      document.querySelectorAll("button[value=create]").forEach(function (b) {
        b.className = "mode-submit-" + r.value;
        b.textContent = say(r.value === "live" ? "writeLive" : "writeTest",
          "Write {mode} broadcast (needs a second person's approval)", { mode: r.value.toUpperCase() });
      });
    });
  });

  // ---- the area, drawn on the map -----------------------------------------------------
  var form = document.getElementById("composer");
  var drawBox = document.getElementById("area-draw");
  var corners = document.getElementById("polygon-corners");
  var estimateOut = document.getElementById("estimate");
  if (!form || !drawBox || !corners || !estimateOut) return;
  var field = function (name) { return form.elements[name]; };
  var areaKind = function () { var r = form.querySelector("input[name=area_kind]:checked"); return r ? r.value : ""; };
  var mode = function () { var r = form.querySelector("input[name=mode]:checked"); return r ? r.value : "test"; };
  var el = function (name, text, parent, cls) {
    var e = document.createElement(name);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  };

  // The typed corners as [lon, lat] pairs (lines that do not read are left out).
  function readCorners() {
    var out = [];
    corners.value.split(/\r?\n/).forEach(function (line) {
      var m = line.trim().match(/^(-?[0-9.]+)\s*[,; ]\s*(-?[0-9.]+)$/);
      if (m) out.push([Number(m[2]), Number(m[1])]);
    });
    return out;
  }
  function writeCorners(pts) {
    corners.value = pts.map(function (p) { return p[1].toFixed(5) + ", " + p[0].toFixed(5); }).join("\n");
  }

  // The area as the API takes it, from the form (as the server reads the form); null if
  // it does not read yet.
  function areaJson() {
    var kind = areaKind(), num = function (n) { var v = field(n).value.trim(); return v === "" ? NaN : Number(v); };
    if (kind === "countries") {
      var cs = field("countries").value.split(/[, ]+/).filter(Boolean);
      return cs.length ? { countries: cs } : null;
    }
    if (kind === "admin1") {
      var list = [];
      field("admin1").value.split(/\r?\n/).forEach(function (l) {
        var i = l.indexOf(":");
        if (i > 0 && l.slice(i + 1).trim()) list.push({ country: l.slice(0, i).trim(), name: l.slice(i + 1).trim() });
      });
      return list.length ? { admin1: list } : null;
    }
    if (kind === "circle") {
      var c = { lat: num("lat"), lon: num("lon"), radius_km: num("radius_km") };
      return isFinite(c.lat) && isFinite(c.lon) && isFinite(c.radius_km) ? { circle: c } : null;
    }
    if (kind === "polygon") {
      var pts = readCorners();
      if (pts.length < 3) return null;
      return { polygon: { type: "Polygon", coordinates: [pts.concat([pts[0]])] } };
    }
    return null;
  }

  function texts() {
    var t = {};
    form.querySelectorAll("textarea[name^=text_]").forEach(function (ta) {
      if (ta.value.trim()) t[ta.name.slice(5)] = ta.value.replace(/\r\n/g, "\n");
    });
    return t;
  }

  // ---- the figures --------------------------------------------------------------------
  var seq = 0, timer = null, onSimplified = function () {};
  function showEstimate(e) {
    while (estimateOut.firstChild) estimateOut.removeChild(estimateOut.firstChild);
    var p = el("p", null, estimateOut);
    el("strong", String(e.recipients), p).id = "estimate-recipients";
    p.appendChild(document.createTextNode(" " + (mode() === "live" ? say("recipients", "recipients") : say("recipientsTest", "recipients (TEST: the staff test phones only)"))));
    p.appendChild(document.createTextNode(" \u00b7 "));
    el("span", String(e.subscribers_in_area), p).id = "estimate-subscribers";
    p.appendChild(document.createTextNode(" " + say("subscribers", "subscribers in the area")));
    if (e.area_km2 != null) {
      p.appendChild(document.createTextNode(" \u00b7 " + say("area", "area") + " "));
      el("span", e.area_km2.toFixed(1), p).id = "estimate-km2";
      p.appendChild(document.createTextNode(" km\u00b2"));
    }
    if (e.corners) p.appendChild(document.createTextNode(" \u00b7 " + say("cornersSimplified", "{n} corners once simplified", { n: e.corners })));
    if (e.area && e.area.admin1) {
      p.appendChild(document.createTextNode(" \u00b7 " + say("areas", "areas:") + " "));
      el("span", e.area.admin1.map(function (a) { return a.name + " (" + a.country + ")"; }).join(", "), p).id = "estimate-areas";
    }
    var ul = el("ul", null, estimateOut);
    ul.id = "estimate-gateways";
    (e.gateways.length ? e.gateways : [{ gateway: "", rate_per_second: e.rate_per_second, send_secs: e.send_secs }]).forEach(function (g) {
      var args = { secs: g.send_secs, rate: g.rate_per_second, gateway: g.gateway };
      el("li", g.gateway
        ? say("gateway", "about {secs} s at {rate} messages/s through {gateway}", args) +
          (g.used ? " (" + say("gatewayUsed", "broadcasts leave through this one") + ")" : "")
        : say("noGateway", "about {secs} s at {rate} messages/s (no gateway configured)", args), ul);
    });
    estimateOut.dataset.recipients = String(e.recipients);
    estimateOut.dataset.subscribers = String(e.subscribers_in_area);
    estimateOut.dataset.km2 = e.area_km2 == null ? "" : String(e.area_km2);
    estimateOut.dataset.corners = String(e.corners);
  }
  function showError(msg) {
    while (estimateOut.firstChild) estimateOut.removeChild(estimateOut.firstChild);
    el("p", msg, estimateOut, "error");
    delete estimateOut.dataset.recipients;
  }
  async function estimate() {
    var mine = ++seq, area = areaJson();
    if (!area) { onSimplified(null); estimateOut.dataset.pending = "false"; return; }
    var csrf = form.elements.csrf ? form.elements.csrf.value : "";
    try {
      var res = await fetch(drawBox.querySelector("#area-map").dataset.estimateUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ mode: mode(), area: area, texts: texts() }) });
      var body = await res.json();
      if (mine !== seq) return;
      if (res.ok) { showEstimate(body); onSimplified(body.area); } else { showError(body.error || ("HTTP " + res.status)); onSimplified(null); }
    } catch (err) {
      if (mine === seq) showError(say("failed", "Could not get the figures:") + " " + err.message);
    }
    if (mine === seq) {
      estimateOut.dataset.loads = String((Number(estimateOut.dataset.loads) || 0) + 1);
      estimateOut.dataset.pending = "false";
    }
  }
  // Asked 250 ms after the last change; data-pending says figures are on their way.
  function later() { clearTimeout(timer); estimateOut.dataset.pending = "true"; timer = setTimeout(estimate, 250); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);

  // ---- the map ------------------------------------------------------------------------
  var lib = window.maplibregl;
  var gl = false;
  try { gl = !!document.createElement("canvas").getContext("webgl2"); } catch (e) { gl = false; }
  if (!lib || !gl || !window.tocsinBasemapStyle) {
    document.getElementById("draw-fallback").hidden = false;
    return;
  }
  drawBox.hidden = false;
  var div = document.getElementById("area-map");
  var status = document.getElementById("draw-status");
  lib.setWorkerUrl("/assets/maplibre/maplibre-gl-worker.js");
  var map = new lib.Map({ container: div, style: window.tocsinBasemapStyle(location.origin), center: [20.5, 6.5], zoom: 4,
    minZoom: 0, maxZoom: 14, attributionControl: { compact: false }, renderWorldCopies: false,
    dragRotate: false, pitchWithRotate: false, touchPitch: false, doubleClickZoom: false });
  map.touchZoomRotate.disableRotation();
  map.addControl(new lib.NavigationControl({ showCompass: false }), "top-left");
  window.tocsinComposeMap = map; // for the tests
  var empty = { type: "FeatureCollection", features: [] };

  // A circle as a ring of 64 corners, for drawing only (the server computes with the circle).
  function circleRing(lat, lon, km) {
    var ring = [], dlat = km / 111.19, dlon = km / (111.32 * Math.max(0.01, Math.cos(lat * Math.PI / 180)));
    for (var i = 0; i <= 64; i++) {
      var t = (i % 64) / 64 * 2 * Math.PI;
      ring.push([lon + dlon * Math.cos(t), lat + dlat * Math.sin(t)]);
    }
    return ring;
  }
  function drawn() {
    var kind = areaKind(), f = [];
    if (kind === "polygon") {
      var pts = readCorners();
      pts.forEach(function (p, i) { f.push({ type: "Feature", properties: { n: i + 1 }, geometry: { type: "Point", coordinates: p } }); });
      if (pts.length >= 3) f.push({ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [pts.concat([pts[0]])] } });
      else if (pts.length === 2) f.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: pts } });
      status.textContent = say(pts.length === 1 ? "corner" : "corners", "{n} corners", { n: pts.length }) +
        (pts.length < 3 ? " (" + say("tooFew", "at least 3 make an area") + ")" : "");
      div.dataset.corners = String(pts.length);
    } else if (kind === "circle") {
      var lat = Number(field("lat").value), lon = Number(field("lon").value), r = Number(field("radius_km").value);
      if (field("lat").value && field("lon").value && isFinite(lat) && isFinite(lon)) {
        f.push({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [lon, lat] } });
        if (r > 0) f.push({ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [circleRing(lat, lon, r)] } });
      }
      status.textContent = "";
    } else status.textContent = "";
    return { type: "FeatureCollection", features: f };
  }
  function redraw() {
    var src = map.getSource("drawn");
    if (src) src.setData(drawn());
  }
  onSimplified = function (area) {
    var src = map.getSource("simplified");
    if (!src) return;
    var poly = area && area.polygon;
    src.setData(poly ? { type: "Feature", properties: {}, geometry: poly } : empty);
  };

  map.on("load", function () {
    map.addSource("drawn", { type: "geojson", data: empty });
    map.addSource("simplified", { type: "geojson", data: empty });
    map.addLayer({ id: "drawn-fill", type: "fill", source: "drawn", filter: ["==", ["geometry-type"], "Polygon"],
      paint: { "fill-color": "#b3261e", "fill-opacity": 0.18 } });
    map.addLayer({ id: "drawn-line", type: "line", source: "drawn", filter: ["!=", ["geometry-type"], "Point"],
      paint: { "line-color": "#b3261e", "line-width": 2 } });
    map.addLayer({ id: "simplified-line", type: "line", source: "simplified",
      paint: { "line-color": "#1d2329", "line-width": 1.5, "line-dasharray": [2, 2] } });
    map.addLayer({ id: "drawn-corners", type: "circle", source: "drawn", filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 5, "circle-color": "#ffffff", "circle-stroke-color": "#b3261e", "circle-stroke-width": 2 } });
    var pts = readCorners();
    if (areaKind() === "polygon" && pts.length) {
      var b = pts.reduce(function (a, p) { return [Math.min(a[0], p[0]), Math.min(a[1], p[1]), Math.max(a[2], p[0]), Math.max(a[3], p[1])]; },
        [180, 90, -180, -90]);
      map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 10, duration: 0 });
    }
    redraw();
    div.dataset.ready = "true";
    estimate();
  });
  map.on("click", function (e) {
    var ll = e.lngLat;
    if (areaKind() === "circle") {
      field("lat").value = ll.lat.toFixed(5);
      field("lon").value = ll.lng.toFixed(5);
      if (!field("radius_km").value) field("radius_km").value = "10";
    } else {
      form.querySelector("input[name=area_kind][value=polygon]").checked = true;
      var pts = readCorners();
      pts.push([ll.lng, ll.lat]);
      writeCorners(pts);
    }
    redraw();
    later();
  });
  document.getElementById("undo-corner").addEventListener("click", function () {
    var pts = readCorners();
    pts.pop();
    writeCorners(pts);
    redraw();
    later();
  });
  document.getElementById("clear-corners").addEventListener("click", function () {
    writeCorners([]);
    redraw();
    later();
  });
  form.addEventListener("input", redraw);
  form.addEventListener("change", redraw);
  map.on("error", function (e) { if (e && e.error) div.dataset.mapError = String(e.error.message || e.error); });
})();
