// Raw flash through require("Flash"). Addresses are absolute; erasePage takes any address inside the page.

import type { FlashHal } from "../types";

export function createDeviceFlash(): FlashHal {
  const flash = require("Flash");
  return {
    read: function (addr, length) {
      return flash.read(length, addr);
    },
    program: function (addr, data) {
      flash.write(data, addr);
    },
    erase: function (pageAddr) {
      flash.erasePage(pageAddr);
    },
  };
}
