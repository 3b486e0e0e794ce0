// MathJax 3 configuration, read before assets/mathjax/tex-svg.js (a local copy: no CDN).
// Pages: pymdownx.arithmatex wraps math in .arithmatex; notebooks: their markdown cells.
window.MathJax = {
  tex: {
    inlineMath: [['\\(', '\\)'], ['$', '$']],
    displayMath: [['\\[', '\\]'], ['$$', '$$']],
    processEscapes: true,
  },
  options: {
    ignoreHtmlClass: '.*|',
    processHtmlClass: 'arithmatex|jp-RenderedMarkdown|jp-MarkdownOutput',
  },
};
// Material's instant navigation swaps pages without a reload: typeset each new page.
if (typeof document$ !== 'undefined') {
  document$.subscribe(() => {
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.startup.output.clearCache();
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
