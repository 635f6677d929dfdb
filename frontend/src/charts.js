/**
 * ECharts as the dashboard uses it, and nothing more: bar, line and pie charts with axes, tooltips
 * and legends, drawn on a canvas. Built by ../build.sh into service/static/vendor/echarts/echarts.min.js
 * as an IIFE that sets `window.echarts` (init, use), a third the size of ECharts whole.
 * AriaComponent: the `aria` option, which names each chart for a screen reader with a description of
 * its series and figures, in the page's language (the locale follows <html lang>).
 */
import { init, use } from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

use([AriaComponent, BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { init, use };
