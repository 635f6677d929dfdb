/* Fit a bpmn-js diagram into its canvas, leaving strips free on the left (the palette) and on the
 * right (the bpmn.io watermark in the bottom-right corner), which bpmn-js's own fit-viewport ignores.
 * opts: {left, right, pad} in pixels; center: true centres the diagram between the strips. */
window.rectiflowFit = function (canvas, opts) {
  'use strict';
  canvas.zoom('fit-viewport', 'auto');
  var vb = canvas.viewbox();
  var inner = vb.inner;
  var outer = vb.outer;
  if (!inner || !inner.width || !inner.height || !outer.width) {
    return;
  }
  var scale = Math.min((outer.width - opts.left - opts.right) / inner.width,
                       (outer.height - 2 * opts.pad) / inner.height, 1);
  var spareX = outer.width - opts.right - inner.width * scale;
  var spareY = outer.height - inner.height * scale;
  canvas.viewbox({
    x: opts.center ? inner.x - (spareX / 2) / scale : inner.x - opts.left / scale,
    y: inner.y - (spareY / 2) / scale,
    width: outer.width / scale, height: outer.height / scale
  });
};
