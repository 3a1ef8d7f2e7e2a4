/* Tocsin incident map (ES2017, no modules, nothing from another host).
 * With WebGL2 and MapLibre GL JS (served by Tocsin at /assets/maplibre/) it draws the offline
 * vector basemap (/tiles/{z}/{x}/{y}.mvt, labels from /glyphs/) with admin-1 areas shaded by
 * incident count (/api/v1/incidents/map/admin1), the server's clusters with their counts, then
 * points. Without them it draws an SVG world map from TopoJSON (decoded here), so the map is
 * never blank. Incidents come from <div id="map" data-map-url="/api/v1/incidents/map">,
 * clustered by the server and filtered by the form #map-filters (date range, event type).
 * Data text goes in via textContent and setAttribute only, never innerHTML. Sets
 * data-ready="true" and data-renderer ("maplibre" or "svg") when done, and data-loads (a count)
 * each time incidents were drawn. */
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MIN_VIEW_W = 360 / 64; // deepest zoom: 64x
  const EVENT_COLOURS = [ // the six ACLED event types
    ['Battles', '#e6550d'], ['Violence against civilians', '#b2182b'], ['Explosions/Remote violence', '#756bb1'],
    ['Riots', '#d4a017'], ['Protests', '#3182bd'], ['Strategic developments', '#31a354']];
  const COLOUR_BY_TYPE = new Map(EVENT_COLOURS);
  const CLUSTER_COLOUR = '#4b5563'; // groups: a neutral slate, no event type's colour

  // Words in the page's language, from <script src="/assets/map.js" data-words="{…}"> (the server's
  // catalogue, keys `mapjs.*` without the prefix; plural forms as `key.one`, `key.other`…
  // picked with the page language's rules). A missing word shows its key.
  let WORDS = {};
  let PLURAL = null;
  function useWords(el) {
    try { WORDS = JSON.parse(el.dataset.words || '{}') || {}; } catch (e) { WORDS = {}; }
    try { PLURAL = new Intl.PluralRules(document.documentElement.lang || 'en'); } catch (e) { PLURAL = null; }
  }
  function w(key, args) {
    let s = String(WORDS[key] || key);
    Object.keys(args || {}).forEach(k => { s = s.split('{' + k + '}').join(String(args[k])); });
    return s;
  }
  // `key` for `n` things: its plural form in the page's language, `{count}` filled.
  function wn(key, n) {
    const cat = PLURAL ? PLURAL.select(n) : (n === 1 ? 'one' : 'other');
    const k = (key + '.' + cat) in WORDS ? key + '.' + cat : key + '.other';
    return w(k, { count: n });
  }
  // An event type's name in the page's language (the stored value when the catalogue lacks it).
  const typeName = type => WORDS['type.' + type] || type;

  // ---- TopoJSON decoding -------------------------------------------------
  // Arcs as arrays of [lon, lat]: undoes delta encoding and quantization.
  function decodeArcs(topo) {
    const t = topo.transform;
    return topo.arcs.map(arc => {
      if (!t) return arc.map(p => [p[0], p[1]]); // not quantized
      let x = 0, y = 0;
      return arc.map(p => [(x += p[0]) * t.scale[0] + t.translate[0], (y += p[1]) * t.scale[1] + t.translate[1]]);
    });
  }

  // Stitches one ring from arc indices; index ~i (negative) is arc i reversed.
  // Consecutive arcs share an end point, so it is kept only once.
  function ring(indices, arcs) {
    const out = [];
    indices.forEach((i, n) => {
      const pts = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
      for (let k = n === 0 ? 0 : 1; k < pts.length; k++) out.push(pts[k]);
    });
    return out;
  }

  // Polygon / MultiPolygon -> flat list of rings (holes included; drawn evenodd).
  function geometryRings(geom, arcs) {
    const polys = geom.type === 'Polygon' ? [geom.arcs] : geom.type === 'MultiPolygon' ? geom.arcs : [];
    return [].concat(...polys.map(poly => poly.map(r => ring(r, arcs))));
  }

  function decodeCountries(topo) {
    const arcs = decodeArcs(topo);
    const obj = topo.objects.countries || topo.objects[Object.keys(topo.objects)[0]];
    return obj.geometries.map(g => ({ id: g.id == null ? null : String(g.id), name: (g.properties || {}).name || '',
      iso3: (g.properties || {}).iso3 || null, rings: geometryRings(g, arcs) }));
  }

  // Equirectangular projection into "world units": x 0..360, y 0..180.
  const project = (lon, lat) => [lon + 180, 90 - lat];

  // Natural Earth keeps rings that cross the antimeridian (Fiji, Chukotka) whole. They are
  // unwrapped to continuous longitudes and drawn twice, 360 degrees apart; the viewport clips
  // the overhang. A ring that winds round the pole (Antarctica) is left as it is.
  function unwrap(r) {
    let off = 0;
    const out = r.map((p, k) => {
      const d = k ? p[0] - r[k - 1][0] : 0;
      off += d > 180 ? -360 : d < -180 ? 360 : 0;
      return [p[0] + off, p[1]];
    });
    return off === 0 ? out : r;
  }
  function pathData(rings) {
    return rings.map(r0 => {
      const r = unwrap(r0), lons = r.map(p => p[0]);
      const shifts = [0].concat(Math.min(...lons) < -180 ? [360] : [], Math.max(...lons) > 180 ? [-360] : []);
      return shifts.map(s => 'M' + r.map(p => {
        const q = project(p[0] + s, p[1]);
        return q[0].toFixed(2) + ',' + q[1].toFixed(2);
      }).join('L') + 'Z').join('');
    }).join('');
  }

  // ---- data --------------------------------------------------------------
  // The filter form's values as query parameters (empty ones left out).
  function filterQuery() {
    const form = typeof document !== 'undefined' && document.getElementById('map-filters');
    if (!form) return '';
    const parts = [];
    ['from', 'to', 'event_type'].forEach(name => {
      const el = form.elements[name];
      if (el && el.value) parts.push(name + '=' + encodeURIComponent(el.value));
    });
    return parts.join('&');
  }
  const withQuery = (url, q) => q ? url + (url.indexOf('?') >= 0 ? '&' : '?') + q : url;
  // Calls fn after each change of the filters (the form's submit, kept on the page). A form
  // marked data-submit="page" (the situation dashboard, whose chart follows the same dates)
  // reloads the page instead.
  function onFilters(fn) {
    const form = document.getElementById('map-filters');
    if (form && form.dataset.submit !== 'page') form.addEventListener('submit', e => { e.preventDefault(); fn(); });
  }
  // The first view asked for by data-bbox="west,south,east,north", if valid.
  function startBounds(div) {
    const b = String(div.dataset.bbox || '').split(',').map(Number);
    return b.length === 4 && b.every(Number.isFinite) && b[0] < b[2] && b[1] < b[3] ? b : null;
  }

  async function getJSON(url) {
    const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    return res.json();
  }

  // ---- DOM helpers -------------------------------------------------------
  function svgEl(name, attrs, parent) {
    const e = document.createElementNS(SVG_NS, name);
    Object.keys(attrs).forEach(k => e.setAttribute(k, attrs[k]));
    return parent.appendChild(e);
  }
  function htmlEl(name, className, parent, text) {
    const e = document.createElement(name);
    e.className = className;
    if (text != null) e.textContent = text;
    return parent.appendChild(e);
  }

  // ---- SVG map (the fallback) -------------------------------------------
  async function initSvg(div) {
    div.dataset.renderer = 'svg';
    const status = document.getElementById('map-status');
    const setStatus = (msg, err) => { if (status) { status.textContent = msg; status.classList.toggle('error', err); } };
    if (getComputedStyle(div).position === 'static') div.style.position = 'relative';

    const svg = svgEl('svg', { class: 'map-svg', role: 'img', 'aria-label': w('aria') }, div);
    svg.style.display = 'block'; svg.style.touchAction = 'none';
    const countriesG = svgEl('g', { class: 'countries' }, svg);
    const incidentsG = svgEl('g', { class: 'incidents' }, svg);
    const view = { x: 0, y: 0, w: 360, h: 180 };
    let circles = [], labels = [];

    const pxWidth = () => parseFloat(svg.getAttribute('width')) || 360;
    function applyView() {
      svg.setAttribute('viewBox', [view.x, view.y, view.w, view.h].map(v => v.toFixed(4)).join(' '));
      const k = view.w / pxWidth(); // world units per pixel: keeps markers a constant pixel size
      circles.forEach(c => c.setAttribute('r', (c.tocsinRadius * k).toFixed(4)));
      labels.forEach(t => t.setAttribute('font-size', (11 * k).toFixed(4)));
    }
    function resize() { // width follows the div; height = width / 2
      const w = Math.max(div.clientWidth, 200);
      if (String(w) === svg.getAttribute('width')) return;
      svg.setAttribute('width', w); svg.setAttribute('height', Math.round(w / 2));
      applyView();
    }
    function setView(x, y) { // keeps the view inside the world
      view.h = view.w / 2;
      view.x = Math.min(360 - view.w, Math.max(0, x));
      view.y = Math.min(180 - view.h, Math.max(0, y));
      applyView();
    }
    // factor > 1 zooms in; the world point (cx, cy) stays where it is on screen.
    function zoom(factor, cx = view.x + view.w / 2, cy = view.y + view.h / 2) {
      const fx = (cx - view.x) / view.w, fy = (cy - view.y) / view.h;
      view.w = Math.min(360, Math.max(MIN_VIEW_W, view.w / factor));
      setView(cx - fx * view.w, cy - fy * view.w / 2);
    }
    resize();
    const sb = startBounds(div);
    if (sb) { // the smallest view (2:1) holding the box
      const a = project(sb[0], sb[3]), b = project(sb[2], sb[1]);
      view.w = Math.min(360, Math.max(MIN_VIEW_W, b[0] - a[0], 2 * (b[1] - a[1])));
      setView((a[0] + b[0]) / 2 - view.w / 2, (a[1] + b[1]) / 2 - view.w / 4);
    }
    if (window.ResizeObserver) new ResizeObserver(resize).observe(div);
    else window.addEventListener('resize', resize);

    // Zoom: buttons and mouse wheel.
    const controls = htmlEl('div', 'map-controls', div);
    [['+', w('zoom_in'), () => zoom(1.5)], ['\u2212', w('zoom_out'), () => zoom(1 / 1.5)],
      ['\u21ba', w('reset'), () => { view.w = 360; setView(0, 0); }],
    ].forEach(([label, title, fn]) => {
      const b = htmlEl('button', 'map-zoom', controls, label);
      b.type = 'button'; b.title = title; b.setAttribute('aria-label', title);
      b.addEventListener('click', fn);
    });
    svg.addEventListener('wheel', e => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      zoom(e.deltaY < 0 ? 1.25 : 0.8,
        view.x + (e.clientX - r.left) / r.width * view.w,
        view.y + (e.clientY - r.top) / r.height * view.h);
    }, { passive: false });

    // Drag to pan; a drag must not also follow an incident link.
    let drag = null, dragged = false;
    svg.addEventListener('pointerdown', e => {
      if (e.button === 0) { drag = { sx: e.clientX, sy: e.clientY, vx: view.x, vy: view.y, id: e.pointerId }; dragged = false; }
    });
    svg.addEventListener('pointermove', e => {
      if (!drag || e.pointerId !== drag.id) return;
      const dx = e.clientX - drag.sx, dy = e.clientY - drag.sy;
      if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!dragged) { dragged = true; svg.setPointerCapture(e.pointerId); svg.classList.add('dragging'); }
      const k = view.w / svg.getBoundingClientRect().width;
      setView(drag.vx - dx * k, drag.vy - dy * k);
    });
    const endDrag = e => { if (drag && e.pointerId === drag.id) { drag = null; svg.classList.remove('dragging'); } };
    ['pointerup', 'pointercancel'].forEach(t => svg.addEventListener(t, endDrag));
    svg.addEventListener('click', e => { if (dragged) { e.preventDefault(); e.stopPropagation(); dragged = false; } }, true);
    svg.addEventListener('dragstart', e => e.preventDefault());

    const legend = htmlEl('div', 'map-legend', div);
    EVENT_COLOURS.forEach(([name, colour]) => {
      const item = htmlEl('span', 'map-legend-item', legend);
      htmlEl('span', 'map-legend-swatch', item).style.background = colour;
      item.appendChild(document.createTextNode(typeName(name)));
    });

    setStatus(w('loading'), false);
    const topo = await getJSON(div.dataset.topologyUrl || '/assets/countries-110m.json').then(v => ({ value: v }), e => ({ error: e }));
    if (topo.value) {
      decodeCountries(topo.value).forEach(c => {
        const path = svgEl('path', { class: 'country', d: pathData(c.rings), fill: '#d9d9d9', stroke: '#ffffff',
          'stroke-width': '0.5', 'vector-effect': 'non-scaling-stroke', 'fill-rule': 'evenodd' }, countriesG);
        if (c.iso3) path.setAttribute('data-iso3', c.iso3);
        svgEl('title', {}, path).textContent = c.name;
      });
    }

    // Incidents come from the server already clustered for the view: clusters at low zoom,
    // points at high zoom. Each pan or zoom asks again (debounced).
    const mapUrl = div.dataset.mapUrl || '/api/v1/incidents/map';
    let seq = 0, timer = null;
    function viewQuery() {
      const z = Math.max(0, Math.min(20, Math.round(Math.log2(360 / view.w)) + 2));
      const w = Math.max(-180, view.x - 180), e = Math.min(180, view.x + view.w - 180);
      const n = Math.min(90, 90 - view.y), s = Math.max(-90, 90 - view.y - view.h);
      return 'zoom=' + z + '&bbox=' + [w, s, e, n].map(v => v.toFixed(4)).join(',');
    }
    function draw(fc) {
      while (incidentsG.firstChild) incidentsG.removeChild(incidentsG.firstChild);
      const feats = (fc.features || []).filter(f => f && f.geometry && Array.isArray(f.geometry.coordinates));
      feats.sort((a, b) => (b.properties.count || b.properties.fatalities || 0) - (a.properties.count || a.properties.fatalities || 0));
      labels = [];
      circles = feats.map(f => {
        const p = f.properties || {}, q = project(f.geometry.coordinates[0], f.geometry.coordinates[1]);
        if (p.cluster) {
          const c = svgEl('circle', { class: 'cluster', cx: q[0].toFixed(4), cy: q[1].toFixed(4), fill: CLUSTER_COLOUR,
            'fill-opacity': '0.8', stroke: '#ffffff', 'stroke-width': '1', 'vector-effect': 'non-scaling-stroke',
            'data-count': String(p.count) }, incidentsG);
          c.tocsinRadius = Math.min(28, 5 + 2.2 * Math.sqrt(p.count));
          svgEl('title', {}, c).textContent = wn('incidents', Number(p.count) || 0) + ' \u00b7 ' + wn('fatalities', Number(p.fatalities) || 0);
          const t = svgEl('text', { class: 'cluster-count', x: q[0].toFixed(4), y: q[1].toFixed(4), fill: '#ffffff',
            'text-anchor': 'middle', 'dominant-baseline': 'central', 'pointer-events': 'none' }, incidentsG);
          t.textContent = String(p.count);
          labels.push(t);
          c.addEventListener('click', () => { // zoom to the cluster's bounds
            const b = p.bounds || [], bw = Math.max(1, (b[2] - b[0]) * 1.6, (b[3] - b[1]) * 3.2);
            view.w = Math.min(360, Math.max(MIN_VIEW_W, bw));
            setView(q[0] - view.w / 2, q[1] - view.w / 4); refresh();
          });
          return c;
        }
        const type = String(p.event_type || ''), fat = Math.max(0, Number(p.fatalities) || 0);
        const a = svgEl('a', { href: '/incidents/' + encodeURIComponent(String(p.id)) }, incidentsG);
        const c = svgEl('circle', { class: 'incident', cx: q[0].toFixed(4), cy: q[1].toFixed(4),
          fill: COLOUR_BY_TYPE.get(type) || '#636363', 'fill-opacity': '0.75', stroke: '#ffffff',
          'stroke-width': '0.75', 'vector-effect': 'non-scaling-stroke', 'data-event-type': type }, a);
        c.tocsinRadius = Math.min(30, Math.max(3, 3 + 1.5 * Math.sqrt(fat)));
        svgEl('title', {}, c).textContent = [String(p.event_date || ''), typeName(type), wn('fatalities', fat)].join(' \u00b7 ');
        return c;
      });
      applyView();
      div.dataset.incidentCount = String(fc.total || 0);
      div.dataset.mode = String(fc.mode || '');
      setStatus(wn('in_view', fc.total || 0) + (fc.mode === 'clusters' ? ' ' + w('grouped') : ''), false);
    }
    async function refresh() {
      const mine = ++seq;
      try {
        const fc = await getJSON(withQuery(mapUrl + (mapUrl.indexOf('?') >= 0 ? '&' : '?') + viewQuery(), filterQuery()));
        if (mine === seq) { draw(fc); div.dataset.loads = String((Number(div.dataset.loads) || 0) + 1); }
      } catch (err) {
        const msg = w('load_failed', { error: err.message });
        setStatus(msg, true); div.dataset.error = msg;
      }
      div.dataset.ready = 'true';
    }
    const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    svg.addEventListener('wheel', later);
    svg.addEventListener('pointerup', later);
    controls.addEventListener('click', later);
    onFilters(refresh);
    if (topo.error) { setStatus(w('outline_failed', { error: topo.error.message }), true); div.dataset.error = String(topo.error); }
    await refresh();
  }


  // ---- MapLibre map ------------------------------------------------------
  const SHADE = ['#fff3e0', '#fdd49e', '#fdae6b', '#e6850e', '#a6611a']; // admin-1 counts, low to high

  function webgl2() {
    try { return !!document.createElement('canvas').getContext('webgl2'); } catch (e) { return false; }
  }

  // An admin-1 area's key in the counts: "ISO3|GeoNames admin-1 name".
  const AREA_KEY = ['concat', ['get', 'adm0_a3'], '|', ['get', 'a1']];
  // Only areas with incidents are drawn: SwiftShader would rasterise the others' transparent
  // triangles on every frame.
  const shadeFilter = counts => ['has', AREA_KEY, ['literal', counts]];
  // The admin-1 fill colour: counts by area key, stepped on a log scale.
  function shadeExpression(counts, max) {
    const n = ['coalesce', ['get', AREA_KEY, ['literal', counts]], 0];
    const stops = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].filter(v => v <= Math.max(1, max));
    const steps = ['step', n, 'rgba(0,0,0,0)'];
    stops.forEach((v, i) => steps.push(v, SHADE[Math.min(SHADE.length - 1, Math.floor(i * SHADE.length / stops.length))]));
    return steps;
  }

  function style(origin) {
    const text = colour => ({ 'text-color': colour, 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.2 });
    return {
      version: 8,
      glyphs: origin + '/glyphs/{fontstack}/{range}.pbf',
      sources: {
        basemap: { type: 'vector', tiles: [origin + '/tiles/{z}/{x}/{y}.mvt'], minzoom: 0, maxzoom: 6,
          attribution: w('credits') },
        incidents: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      },
      layers: [
        { id: 'water', type: 'background', paint: { 'background-color': '#dce8f0' } },
        // No fill antialiasing (an outline pass per polygon): the line layers draw the edges.
        { id: 'countries', type: 'fill', source: 'basemap', 'source-layer': 'countries',
          paint: { 'fill-color': '#f4f2ee', 'fill-antialias': false } },
        { id: 'admin1-shade', type: 'fill', source: 'basemap', 'source-layer': 'admin1', minzoom: 3,
          filter: shadeFilter({}),
          paint: { 'fill-color': shadeExpression({}, 0), 'fill-opacity': 0.6, 'fill-antialias': false } },
        { id: 'admin1-lines', type: 'line', source: 'basemap', 'source-layer': 'admin1', minzoom: 3,
          paint: { 'line-color': '#a8a29e', 'line-width': 0.6 } },
        { id: 'country-lines', type: 'line', source: 'basemap', 'source-layer': 'countries',
          paint: { 'line-color': '#78716c', 'line-width': ['interpolate', ['linear'], ['zoom'], 1, 0.5, 6, 1.4] } },
        { id: 'places', type: 'symbol', source: 'basemap', 'source-layer': 'places',
          layout: { 'text-field': ['get', 'name'], 'text-font': ['Noto Sans Regular'], 'text-size': 11,
            'text-anchor': 'top', 'text-offset': [0, 0.2], 'symbol-sort-key': ['get', 'rank'] },
          paint: text('#44403c') },
        { id: 'admin1-labels', type: 'symbol', source: 'basemap', 'source-layer': 'labels', minzoom: 4,
          filter: ['==', ['get', 'kind'], 'admin1'],
          layout: { 'text-field': ['get', 'name'], 'text-font': ['Noto Sans Regular'], 'text-size': 11,
            'text-letter-spacing': 0.05, 'text-max-width': 7 },
          paint: text('#6b5b4b') },
        { id: 'country-labels', type: 'symbol', source: 'basemap', 'source-layer': 'labels',
          filter: ['==', ['get', 'kind'], 'country'],
          layout: { 'text-field': ['get', 'name'], 'text-font': ['Noto Sans Regular'], 'text-max-width': 8,
            'text-size': ['interpolate', ['linear'], ['zoom'], 1, 10, 6, 15], 'symbol-sort-key': ['get', 'rank'] },
          paint: text('#292524') },
        { id: 'clusters', type: 'circle', source: 'incidents', filter: ['==', ['get', 'cluster'], true],
          paint: { 'circle-color': CLUSTER_COLOUR, 'circle-opacity': 0.85, 'circle-stroke-color': '#ffffff',
            'circle-stroke-width': 1.5, 'circle-radius': ['min', 30, ['+', 9, ['*', 1.6, ['sqrt', ['get', 'count']]]]] } },
        { id: 'cluster-counts', type: 'symbol', source: 'incidents', filter: ['==', ['get', 'cluster'], true],
          layout: { 'text-field': ['to-string', ['get', 'count']], 'text-font': ['Noto Sans Regular'], 'text-size': 12,
            'text-allow-overlap': true, 'text-ignore-placement': true },
          paint: { 'text-color': '#ffffff' } },
        { id: 'points', type: 'circle', source: 'incidents', filter: ['!=', ['get', 'cluster'], true],
          paint: { 'circle-color': ['match', ['get', 'event_type']].concat(...EVENT_COLOURS, ['#636363']),
            'circle-opacity': 0.8, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1,
            'circle-radius': ['min', 14, ['+', 4, ['*', 1.5, ['sqrt', ['get', 'fatalities']]]]] } },
      ],
    };
  }

  function initGl(div, lib) {
    div.dataset.renderer = 'maplibre';
    div.classList.add('gl');
    const status = document.getElementById('map-status');
    const setStatus = (msg, err) => { if (status) { status.textContent = msg; status.classList.toggle('error', err); } };
    lib.setWorkerUrl(div.dataset.workerUrl || '/assets/maplibre/maplibre-gl-worker.js');
    // Two workers lay out tiles even on a two-core machine (MapLibre's default is half the
    // cores, so one there): a jump's new tiles are parsed side by side.
    if ((navigator.hardwareConcurrency || 2) < 4 && lib.getWorkerCount && lib.getWorkerCount() < 2) lib.setWorkerCount(2);
    const sb = startBounds(div);
    const map = new lib.Map({ container: div, style: style(location.origin), center: [20, 10], zoom: 1.2,
      bounds: sb ? [[sb[0], sb[1]], [sb[2], sb[3]]] : undefined, fitBoundsOptions: { padding: 20 },
      minZoom: 0, maxZoom: 14, attributionControl: { compact: false }, renderWorldCopies: false,
      fadeDuration: 0, // labels appear at once: a fade keeps SwiftShader drawing for 300 ms
      prefetchZoomDelta: 0, // no lower-zoom tiles first: a jump loads only the tiles it shows
      maxTileCacheZoomLevels: 7, // laid-out tiles of every basemap zoom (0-6) kept: going back re-parses nothing
      dragRotate: false, pitchWithRotate: false, touchPitch: false });
    map.touchZoomRotate.disableRotation();
    map.addControl(new lib.NavigationControl({ showCompass: false }), 'top-left');
    window.tocsinMap = map; // for tests and the benchmark
    // A situation's admin-1 areas (data-country, data-areas="A|B"), outlined.
    const areas = String(div.dataset.areas || '').split('|').filter(a => a);
    if (areas.length && div.dataset.country) {
      map.on('load', () => map.addLayer({ id: 'situation-areas', type: 'line', source: 'basemap', 'source-layer': 'admin1',
        filter: ['all', ['==', ['get', 'adm0_a3'], div.dataset.country], ['in', ['get', 'a1'], ['literal', areas]]],
        paint: { 'line-color': '#1f2937', 'line-width': 2.2 } }, 'places'));
    }

    const legend = document.createElement('div');
    legend.className = 'map-legend';
    div.insertAdjacentElement('afterend', legend);
    const group = htmlEl('span', 'map-legend-item', legend);
    htmlEl('span', 'map-legend-swatch', group).style.background = CLUSTER_COLOUR;
    group.appendChild(document.createTextNode(w('group_legend')));
    EVENT_COLOURS.forEach(([name, colour]) => {
      const item = htmlEl('span', 'map-legend-item', legend);
      htmlEl('span', 'map-legend-swatch', item).style.background = colour;
      item.appendChild(document.createTextNode(typeName(name)));
    });
    const shadeItem = htmlEl('span', 'map-legend-item', legend);
    htmlEl('span', 'map-legend-swatch map-legend-area', shadeItem).style.background = SHADE[3];
    shadeItem.appendChild(document.createTextNode(w('area_legend')));

    const mapUrl = div.dataset.mapUrl || '/api/v1/incidents/map';
    const admin1Url = div.dataset.admin1Url || '/api/v1/incidents/map/admin1';
    const styleLoaded = new Promise(resolve => map.on('load', resolve));
    let seq = 0, shown = null;
    // Incidents are asked for the view widened by half its size on each side and snapped to
    // whole tiles of the query's zoom: a pan within that reuses the answer, and the server's
    // cluster grid (aligned to the box's corner) stays put while the map moves. The last
    // answers are kept for a minute, so going back to a view asks nothing.
    const answers = new Map(), KEEP = 24, KEEP_MS = 60000;
    function viewQuery() {
      const b = map.getBounds(), c = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
      const z = c(Math.round(map.getZoom()) + 1, 0, 20), step = 360 / Math.pow(2, z);
      const dx = (b.getEast() - b.getWest()) / 2, dy = (b.getNorth() - b.getSouth()) / 2;
      const snap = (v, f, lo, hi) => c(f(v / step) * step, lo, hi);
      const w = snap(b.getWest() - dx, Math.floor, -180, 180), e = snap(b.getEast() + dx, Math.ceil, -180, 180);
      const s = snap(b.getSouth() - dy, Math.floor, -90, 90), n = snap(b.getNorth() + dy, Math.ceil, -90, 90);
      return 'zoom=' + z + '&bbox=' + [w, s, e, n].map(v => v.toFixed(4)).join(',');
    }
    function answer(url) {
      const now = Date.now(), hit = answers.get(url);
      if (hit && now - hit.at < KEEP_MS) return hit.value;
      const value = getJSON(url);
      answers.delete(url);
      answers.set(url, { at: now, value });
      value.catch(() => answers.delete(url));
      while (answers.size > KEEP) answers.delete(answers.keys().next().value);
      return value;
    }
    // How many incidents lie in the view itself (the answer covers more).
    function inView(fc) {
      const b = map.getBounds();
      return (fc.features || []).reduce((n, f) => {
        const [lon, lat] = f.geometry.coordinates, p = f.properties || {};
        return n + (b.contains([lon, lat]) ? (p.cluster ? Number(p.count) || 0 : 1) : 0);
      }, 0);
    }
    async function refresh(withAreas) {
      const mine = ++seq, filters = filterQuery();
      const url = withQuery(withQuery(mapUrl, viewQuery()), filters);
      try {
        const [fc, areas] = await Promise.all([answer(url),
          withAreas ? getJSON(withQuery(admin1Url, filters)) : Promise.resolve(null), styleLoaded]);
        if (mine !== seq) return;
        if (areas) {
          const counts = {};
          let max = 0;
          (areas.areas || []).forEach(a => { counts[a.country + '|' + a.admin1] = a.count; max = Math.max(max, a.count); });
          map.setFilter('admin1-shade', shadeFilter(counts));
          map.setPaintProperty('admin1-shade', 'fill-color', shadeExpression(counts, max));
          div.dataset.admin1Areas = String((areas.areas || []).length);
        }
        const fresh = shown !== url;
        if (fresh) { map.getSource('incidents').setData(fc); shown = url; }
        map.once('idle', () => {
          if (mine !== seq) return;
          div.dataset.incidentCount = String(fc.total || 0);
          div.dataset.mode = String(fc.mode || '');
          div.dataset.loads = String((Number(div.dataset.loads) || 0) + 1);
          div.dataset.ready = 'true';
          const n = inView(fc);
          setStatus(wn('in_view', n) + (fc.mode === 'clusters' ? ' ' + w('grouped') : ''), false);
        });
        // New data draws a frame when the worker has it; the same data needs one frame for
        // `idle` to come (a forced frame beside new data would be one more for SwiftShader).
        if (!fresh && !areas) map.triggerRepaint();
      } catch (err) {
        const msg = w('load_failed', { error: err.message });
        setStatus(msg, true); div.dataset.error = msg; div.dataset.ready = 'true';
      }
    }
    // The first incidents are asked for at once, beside the style and tiles; each move asks
    // again when it ends (an answer overtaken by a later move is dropped).
    refresh(true);
    map.on('moveend', () => refresh(false));
    onFilters(() => refresh(true));
    map.on('click', 'clusters', e => {
      const raw = e.features[0].properties.bounds; // arrays come back as JSON text
      const bb = (typeof raw === 'string' ? JSON.parse(raw) : raw) || [];
      if (bb.length === 4) map.fitBounds([[bb[0], bb[1]], [bb[2], bb[3]]], { padding: 60, maxZoom: 12 });
    });
    map.on('click', 'points', e => {
      const id = e.features[0].properties.id;
      if (id) location.href = '/incidents/' + encodeURIComponent(String(id));
    });
    ['clusters', 'points'].forEach(l => {
      map.on('mouseenter', l, () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', l, () => { map.getCanvas().style.cursor = ''; });
    });
    map.on('error', e => { if (e && e.error) div.dataset.mapError = String(e.error.message || e.error); });
  }

  async function init(div) {
    const lib = typeof window !== 'undefined' && window.maplibregl;
    const svgWanted = /[?&]renderer=svg(&|$)/.test(location.search);
    if (lib && webgl2() && !svgWanted) {
      try { return initGl(div, lib); } catch (err) { div.dataset.glError = String(err); while (div.firstChild) div.removeChild(div.firstChild); }
    }
    return initSvg(div);
  }

  // Exposed for tests under node; harmless in a browser.
  if (typeof module === 'object' && module.exports) {
    module.exports = { decodeArcs, ring, geometryRings, decodeCountries, project, pathData };
  }
  if (typeof document !== 'undefined') {
    if (document.currentScript) useWords(document.currentScript);
    window.tocsinBasemapStyle = style; // the same basemap for the broadcast composer's map
    window.tocsinDecodeCountries = decodeCountries; // and the broadcast page's countries
    const start = () => {
      const div = document.getElementById('map');
      if (div) init(div).catch(err => { div.dataset.error = String(err); div.dataset.ready = 'true'; });
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
    else start();
  }
})();
