// A broadcast's area on its page, read only, on the offline MapLibre basemap of map.js:
// countries and first-level areas shaded from the basemap's own boundaries (the view fitted
// to their countries), a circle or polygon drawn and fitted. Without MapLibre or WebGL2 the
// area's summary text, always on the page, stands alone. No external host is asked.
(function () {
  "use strict";
  var div = document.getElementById("area-view");
  if (!div) return;
  var lib = window.maplibregl, gl = false;
  try { gl = !!document.createElement("canvas").getContext("webgl2"); } catch (e) { gl = false; }
  var area = null;
  try { area = JSON.parse(div.dataset.area); } catch (e) { area = null; }
  if (!lib || !gl || !window.tocsinBasemapStyle || !area) { div.dataset.fallback = "true"; return; }
  div.hidden = false;
  lib.setWorkerUrl("/assets/maplibre/maplibre-gl-worker.js");
  var map = new lib.Map({ container: div, style: window.tocsinBasemapStyle(location.origin), center: [20.5, 6.5],
    zoom: 3, minZoom: 0, maxZoom: 14, attributionControl: { compact: false }, renderWorldCopies: false,
    dragRotate: false, pitchWithRotate: false, touchPitch: false });
  map.touchZoomRotate.disableRotation();
  map.addControl(new lib.NavigationControl({ showCompass: false }), "top-left");
  window.tocsinAreaMap = map; // for the tests
  var RED = "#b3261e";

  // A circle as a ring of 64 corners, for drawing only (as the composer draws it).
  function circleRing(lat, lon, km) {
    var ring = [], dlat = km / 111.19, dlon = km / (111.32 * Math.max(0.01, Math.cos(lat * Math.PI / 180)));
    for (var i = 0; i <= 64; i++) {
      var t = (i % 64) / 64 * 2 * Math.PI;
      ring.push([lon + dlon * Math.cos(t), lat + dlat * Math.sin(t)]);
    }
    return ring;
  }
  function boundsOf(rings) {
    var b = [180, 90, -180, -90];
    rings.forEach(function (r) { r.forEach(function (p) {
      b = [Math.min(b[0], p[0]), Math.min(b[1], p[1]), Math.max(b[2], p[0]), Math.max(b[3], p[1])];
    }); });
    return b[0] <= b[2] ? [[b[0], b[1]], [b[2], b[3]]] : null;
  }
  function fit(b) { if (b) map.fitBounds(b, { padding: 40, maxZoom: 10, duration: 0 }); }
  // The countries' outlines from the offline world file (map.js decodes it).
  async function fitCountries(codes) {
    if (!window.tocsinDecodeCountries) return;
    try {
      var res = await fetch("/assets/countries-110m.json", { credentials: "same-origin" });
      var rings = [];
      window.tocsinDecodeCountries(await res.json()).forEach(function (c) {
        if (codes.indexOf(c.iso3) >= 0) rings = rings.concat(c.rings);
      });
      fit(boundsOf(rings));
    } catch (e) { div.dataset.mapError = String(e); }
  }

  var shape = null;
  if (area.circle) {
    var c = area.circle;
    shape = { type: "Polygon", coordinates: [circleRing(Number(c.lat), Number(c.lon), Number(c.radius_km))] };
  } else if (area.polygon) {
    shape = area.polygon;
  }
  map.on("load", async function () {
    var fill = { "fill-color": RED, "fill-opacity": 0.22 };
    if (shape) {
      map.addSource("area", { type: "geojson", data: { type: "Feature", properties: {}, geometry: shape } });
      map.addLayer({ id: "area-fill", type: "fill", source: "area", paint: fill });
      map.addLayer({ id: "area-line", type: "line", source: "area", paint: { "line-color": RED, "line-width": 2 } });
      fit(boundsOf(shape.coordinates));
      div.dataset.shown = shape === area.polygon ? "polygon" : "circle";
    } else if (area.countries) {
      map.addLayer({ id: "area-countries", type: "fill", source: "basemap", "source-layer": "countries",
        filter: ["in", ["get", "iso_a3"], ["literal", area.countries]], paint: fill }, "country-lines");
      await fitCountries(area.countries);
      div.dataset.shown = "countries";
    } else if (area.admin1) {
      var keys = area.admin1.map(function (a) { return a.country + "|" + a.name; });
      map.addLayer({ id: "area-admin1", type: "fill", source: "basemap", "source-layer": "admin1",
        filter: ["in", ["concat", ["get", "adm0_a3"], "|", ["get", "a1"]], ["literal", keys]], paint: fill });
      await fitCountries(area.admin1.map(function (a) { return a.country; }));
      div.dataset.shown = "admin1";
    }
    div.dataset.ready = "true";
  });
  map.on("error", function (e) { if (e && e.error) div.dataset.mapError = String(e.error.message || e.error); });
})();
