/* The report has no TeX math, so MathJax is not loaded: this file stands in for it so that no
   page fetches MathJax from a CDN (Sphinx's mathjax_path points here, see _config.yml). */
