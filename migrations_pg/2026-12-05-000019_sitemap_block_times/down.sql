DROP TABLE sitemap_blocks;
