// The capacity launch form: the chosen "host / template" option fills the two fields it posts.
(function () {
  const choice = document.getElementById("capacity-template");
  if (!choice) return;
  const host = document.getElementById("capacity-host");
  const vm = document.getElementById("capacity-vm");
  function fill() {
    const option = choice.options[choice.selectedIndex];
    host.value = option ? option.dataset.host : "";
    vm.value = option ? option.dataset.vm : "";
  }
  choice.addEventListener("change", fill);
  fill();
})();
