/* global document, window */
// The portal's only script (no inline script: the Content-Security-Policy forbids it).
// A "Print" button on the print view; without JavaScript the browser's own print works the same.
document.addEventListener('DOMContentLoaded', function () {
  var buttons = document.querySelectorAll('[data-print]');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener('click', function () {
      window.print();
    });
  }
});
