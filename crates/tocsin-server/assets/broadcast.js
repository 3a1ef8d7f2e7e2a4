// The broadcast composer: counts each text's SMS length as it is typed (GSM 03.38 7-bit with
// its extension table, else UCS-2; 160/153 septets or 70/67 UTF-16 units per segment), and
// turns the banner to TEST or LIVE as the mode changes. The server measures again.
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
  document.querySelectorAll("textarea[data-sms-count]").forEach(function (ta) {
    var out = document.getElementById(ta.getAttribute("data-sms-count"));
    function update() {
      var m = measure(ta.value.replace(/\r\n/g, "\n"));
      out.textContent = m.units ? m.units + " " + m.enc + " units · " + m.segments + " SMS" +
        (m.segments > 6 ? " — too long (at most 6)" : "") : "";
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
        b.textContent = "Write " + r.value.toUpperCase() + " broadcast (needs a second person's approval)";
      });
    });
  });
})();
