// Site-wide behaviour. One confirmation for every destructive action: a form with
// data-confirm="question" is submitted only after the user agrees.
(function () {
  "use strict";
  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
})();
