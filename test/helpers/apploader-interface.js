// The App Loader's interface API for a test page, as EspruinoAppLoaderCore's lib/interface.js defines it for an
// app's interface.html: `Puck.write(data, callback)`, `Puck.on("data", …)` (received data as strings of one character
// per byte), `Util.saveFile`, `Util.showModal`, `Util.hideModal`, and `onInit(device)` once connected. Where the App
// Loader relays these to the watch over Bluetooth, this relays them over HTTP to test/helpers/apploader-bridge.ts,
// which holds a TCP connection to `pstore sim`. Served to the page as ../../core/lib/interface.js.
/* eslint-env browser */
const Puck = {
  handlers: {},
  queue: Promise.resolve(),
  // Writes go out one after another, as the App Loader's UART queue sends them.
  write(data, callback) {
    this.queue = this.queue
      .then(() => fetch("/write", { method: "POST", body: JSON.stringify(data) }))
      .then(() => callback && callback(""));
  },
  on(id, callback) {
    (this.handlers[id] = this.handlers[id] || []).push(callback);
  },
  emit(id, data) {
    (this.handlers[id] || []).forEach((cb) => cb(data));
  },
};
const Util = {
  showModal(title) {
    let modal = document.getElementById("status-modal");
    if (!modal) {
      modal = document.createElement("div");
      modal.id = "status-modal";
      document.body.appendChild(modal);
    }
    modal.textContent = title;
    modal.hidden = false;
  },
  hideModal() {
    const modal = document.getElementById("status-modal");
    if (modal) modal.hidden = true;
  },
  saveFile(filename, mimeType, dataAsString) {
    const a = document.createElement("a");
    a.href = "data:" + mimeType + ";base64," + btoa(dataAsString);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => document.body.removeChild(a), 0);
  },
};
const received = new EventSource("/data");
received.onmessage = (event) => Puck.emit("data", JSON.parse(event.data));
received.onopen = () => {
  if (typeof onInit !== "undefined") onInit({ id: "BANGLEJS2", connected: true });
};
