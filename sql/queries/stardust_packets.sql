-- Every Stardust packet (the latest per asset partition), for walks over _meta_parents.
SELECT CAST(stardust_id AS VARCHAR) AS stardust_id, asset_key, partition_key, entity_type,
       CAST(entity_id AS VARCHAR) AS entity_id, run_id, lineage, created_at
FROM stardust_metadata
