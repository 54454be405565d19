window.__archiverSearch.add("tags",{"lists":["!V","!K","!D","F","F","E","E"]});
