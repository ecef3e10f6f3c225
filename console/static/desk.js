/* The media desk's drop zone: each dropped or chosen file uploads with tus (tus-js-client, vendored),
   with its own progress bar, and shows what it became (in the inbox, or refused with the reasons).
   Without JavaScript the same form posts the files as multipart. */
(function () {
  "use strict";
  var zone = document.getElementById("drop");
  if (!zone || !window.tus || !window.tus.isSupported) { return; }
  var form = zone.querySelector("form");
  var input = form.querySelector("input[type=file]");
  var csrf = form.querySelector("input[name=csrf]").value;
  var list = document.getElementById("uploads");
  var endpoint = zone.getAttribute("data-endpoint");
  var maxBytes = Number(zone.getAttribute("data-max"));

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function show(row, outcome) {
    row.status.textContent = "";
    if (outcome.accepted) {
      row.li.className = "accepted";
      row.status.appendChild(document.createTextNode("in the inbox as " + outcome.testimonial + "'s " + outcome.role +
        (outcome.language ? " (" + outcome.language + ")" : "") + (outcome.replaced ? "; the earlier file is kept as " + outcome.replaced : "") + " — "));
      var link = el("a", "", "see its variants render");
      link.href = endpoint.replace(/\/uploads$/, "/t/" + encodeURIComponent(outcome.testimonial));
      row.status.appendChild(link);
    } else {
      row.li.className = "refused";
      row.status.textContent = "refused, kept in " + outcome.path + ":";
      var reasons = el("ul", "reasons");
      (outcome.reasons || []).forEach(function (r) { reasons.appendChild(el("li", "", r)); });
      row.status.appendChild(reasons);
    }
  }

  function assignment(metadata) {
    // Whose file an unknown name is, if the designer said so in the form (the server assigns it).
    ["testimonial", "role", "language"].forEach(function (key) {
      var field = form.querySelector("[name=" + key + "]");
      if (field && field.value) { metadata[key] = field.value; }
    });
    return metadata;
  }

  function start(file) {
    var li = el("li", "uploading");
    li.setAttribute("data-name", file.name);
    var bar = el("progress");
    bar.max = 100; bar.value = 0;
    var row = { li: li, bar: bar, status: el("div", "status", "starting") };
    li.appendChild(el("div", "name", file.name));
    li.appendChild(bar);
    li.appendChild(row.status);
    list.appendChild(li);
    if (file.size > maxBytes) {
      li.className = "failed";
      row.status.textContent = "too large: the server takes at most " + Math.round(maxBytes / 1048576) + " MB";
      return;
    }
    var upload = new window.tus.Upload(file, {
      endpoint: endpoint,
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 2000, 4000, 8000, 15000],
      metadata: assignment({ filename: file.name, filetype: file.type || "" }),
      headers: { "X-CSRF-Token": csrf },
      removeFingerprintOnSuccess: true,
      onProgress: function (sent, total) {
        var percent = total ? Math.floor(sent * 100 / total) : 0;
        bar.value = percent;
        row.status.textContent = percent + "% (" + (sent / 1048576).toFixed(1) + " of " + (total / 1048576).toFixed(1) + " MB)";
        li.setAttribute("data-percent", String(percent));
      },
      onError: function (error) {
        if (!navigator.onLine) {
          // tus-js-client does not retry while the browser is offline: go on (from the offset the server
          // kept, which it asks for with HEAD) as soon as the connection is back.
          li.className = "waiting";
          row.status.textContent = "connection lost at " + bar.value + "% — the upload goes on when the connection is back";
          window.addEventListener("online", function () { upload.start(); }, { once: true });
          return;
        }
        li.className = "failed";
        var response = error && error.originalResponse;
        row.status.textContent = "not uploaded: " + ((response && response.getBody()) || error.message || error) + " ";
        var again = el("button", "", "Try again");
        again.type = "button";
        again.addEventListener("click", function () { li.className = "uploading"; upload.start(); });
        row.status.appendChild(again);
      },
      onSuccess: function () {
        row.status.textContent = "checking…";
        fetch(upload.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (data) { if (data.outcome) { show(row, data.outcome); } })
          .catch(function (e) { row.status.textContent = "uploaded; could not read the outcome (" + e + "): reload the page"; });
      }
    });
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);
        li.setAttribute("data-resumed", "yes");
      }
      upload.start();
    });
  }

  function startAll(files) { Array.prototype.forEach.call(files, start); }
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("over"); });
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer && event.dataTransfer.files) { startAll(event.dataTransfer.files); }
  });
  input.addEventListener("change", function () { startAll(input.files); input.value = ""; });
  form.addEventListener("submit", function (event) { event.preventDefault(); startAll(input.files); input.value = ""; });
})();
