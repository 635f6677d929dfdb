/* The new-round form: the pick buttons tick or clear a group of units in place, and the counts follow.
   Without this script every button posts the form and the page comes back with the group picked. */
(function () {
  'use strict';

  var form = document.getElementById('round-form');
  if (!form) { return; }

  function boxes(name) {
    return Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="' + name + '"]'));
  }

  function recount() {
    var units = boxes('inspected_unit_ids');
    var total = form.querySelector('[data-count="units"]');
    if (total) { total.textContent = String(units.filter(function (b) { return b.checked; }).length); }
    form.querySelectorAll('fieldset[data-group]').forEach(function (group) {
      var count = group.querySelector('[data-count="' + group.dataset.group + '"]');
      if (count) {
        count.textContent = String(group.querySelectorAll('input[name="inspected_unit_ids"]:checked').length);
      }
    });
    var inspectors = form.querySelector('[data-count="inspectors"]');
    if (inspectors) {
      inspectors.textContent = String(boxes('inspector_ids').filter(function (b) { return b.checked; }).length);
    }
  }

  function setUnits(ids, checked) {
    var wanted = ids ? ids.split(',') : null;
    boxes('inspected_unit_ids').forEach(function (box) {
      if (wanted === null || wanted.indexOf(box.value) !== -1) { box.checked = checked; }
    });
    recount();
    form.dispatchEvent(new Event('change', { bubbles: true }));
  }

  form.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-pick], button[data-unpick], button[data-pick-none]');
    if (!button) { return; }
    event.preventDefault();
    if (button.hasAttribute('data-pick-none')) { setUnits(null, false); }
    else if (button.hasAttribute('data-pick')) { setUnits(button.dataset.pick, true); }
    else { setUnits(button.dataset.unpick, false); }
  });

  /* The conflicts panel, refreshed by htmx, names the inspectors in conflict: mark them in the list. */
  document.addEventListener('htmx:afterSwap', function (event) {
    if (!event.detail.target || event.detail.target.id !== 'conflicts') { return; }
    var holder = event.detail.target.querySelector('[data-conflicted]');
    var ids = holder && holder.dataset.conflicted ? holder.dataset.conflicted.split(',') : [];
    form.querySelectorAll('[data-conflict-tag]').forEach(function (tag) {
      tag.hidden = ids.indexOf(tag.dataset.conflictTag) === -1;
    });
  });

  form.addEventListener('change', function (event) {
    if (event.target !== form) { recount(); }
  });
})();
