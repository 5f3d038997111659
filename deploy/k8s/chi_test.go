package k8s_test

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Altinity clickhouse-operator's Go module cannot be had from the Go
// module proxy, so ClickHouseInstallation is decoded into this local copy of
// its API (clickhouse.altinity.com/v1, operator 0.23+: ChiSpec and the types
// it uses), field names and JSON tags as the operator's
// pkg/apis/clickhouse.altinity.com/v1 declares them. Free-form maps
// (users, profiles, settings, files) stay maps, as they are there; the pod
// and volume claim templates are the Kubernetes types, decoded strictly.

// ClickHouseInstallation is the operator's custom resource.
type ClickHouseInstallation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ChiSpec        `json:"spec,omitempty"`
	Status            map[string]any `json:"status,omitempty"`
}

// ChiSpec is the installation's spec.
type ChiSpec struct {
	TaskID                 string           `json:"taskID,omitempty"`
	Stop                   string           `json:"stop,omitempty"`
	Restart                string           `json:"restart,omitempty"`
	Troubleshoot           string           `json:"troubleshoot,omitempty"`
	NamespaceDomainPattern string           `json:"namespaceDomainPattern,omitempty"`
	Templating             map[string]any   `json:"templating,omitempty"`
	Reconciling            map[string]any   `json:"reconciling,omitempty"`
	Defaults               *ChiDefaults     `json:"defaults,omitempty"`
	Configuration          *ChiConfig       `json:"configuration,omitempty"`
	Templates              *ChiTemplates    `json:"templates,omitempty"`
	UseTemplates           []map[string]any `json:"useTemplates,omitempty"`
}

// ChiDefaults are the defaults of every host.
type ChiDefaults struct {
	ReplicasUseFQDN   string            `json:"replicasUseFQDN,omitempty"`
	DistributedDDL    map[string]any    `json:"distributedDDL,omitempty"`
	StorageManagement map[string]any    `json:"storageManagement,omitempty"`
	Templates         *ChiTemplateNames `json:"templates,omitempty"`
}

// ChiTemplateNames names the templates a host uses.
type ChiTemplateNames struct {
	HostTemplate            string `json:"hostTemplate,omitempty"`
	PodTemplate             string `json:"podTemplate,omitempty"`
	DataVolumeClaimTemplate string `json:"dataVolumeClaimTemplate,omitempty"`
	LogVolumeClaimTemplate  string `json:"logVolumeClaimTemplate,omitempty"`
	ServiceTemplate         string `json:"serviceTemplate,omitempty"`
	ClusterServiceTemplate  string `json:"clusterServiceTemplate,omitempty"`
	ShardServiceTemplate    string `json:"shardServiceTemplate,omitempty"`
	ReplicaServiceTemplate  string `json:"replicaServiceTemplate,omitempty"`
	VolumeClaimTemplate     string `json:"volumeClaimTemplate,omitempty"`
}

// ChiConfig is the ClickHouse configuration.
type ChiConfig struct {
	Zookeeper map[string]any `json:"zookeeper,omitempty"`
	Users     map[string]any `json:"users,omitempty"`
	Profiles  map[string]any `json:"profiles,omitempty"`
	Quotas    map[string]any `json:"quotas,omitempty"`
	Settings  map[string]any `json:"settings,omitempty"`
	Files     map[string]any `json:"files,omitempty"`
	Clusters  []ChiCluster   `json:"clusters,omitempty"`
}

// ChiCluster is one ClickHouse cluster of the installation.
type ChiCluster struct {
	Name              string            `json:"name,omitempty"`
	Zookeeper         map[string]any    `json:"zookeeper,omitempty"`
	Settings          map[string]any    `json:"settings,omitempty"`
	Files             map[string]any    `json:"files,omitempty"`
	Templates         *ChiTemplateNames `json:"templates,omitempty"`
	SchemaPolicy      map[string]any    `json:"schemaPolicy,omitempty"`
	Insecure          string            `json:"insecure,omitempty"`
	Secure            string            `json:"secure,omitempty"`
	Secret            map[string]any    `json:"secret,omitempty"`
	PDBMaxUnavailable *int32            `json:"pdbMaxUnavailable,omitempty"`
	Layout            *ChiClusterLayout `json:"layout,omitempty"`
}

// ChiClusterLayout is a cluster's shards and replicas.
type ChiClusterLayout struct {
	ShardsCount   int              `json:"shardsCount,omitempty"`
	ReplicasCount int              `json:"replicasCount,omitempty"`
	Shards        []map[string]any `json:"shards,omitempty"`
	Replicas      []map[string]any `json:"replicas,omitempty"`
}

// ChiTemplates are the installation's templates.
type ChiTemplates struct {
	HostTemplates        []map[string]any         `json:"hostTemplates,omitempty"`
	PodTemplates         []ChiPodTemplate         `json:"podTemplates,omitempty"`
	VolumeClaimTemplates []ChiVolumeClaimTemplate `json:"volumeClaimTemplates,omitempty"`
	ServiceTemplates     []map[string]any         `json:"serviceTemplates,omitempty"`
}

// ChiPodTemplate is a pod template: Kubernetes metadata and PodSpec.
type ChiPodTemplate struct {
	Name            string            `json:"name"`
	GenerateName    string            `json:"generateName,omitempty"`
	Zone            map[string]any    `json:"zone,omitempty"`
	PodDistribution []map[string]any  `json:"podDistribution,omitempty"`
	ObjectMeta      metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec            corev1.PodSpec    `json:"spec,omitempty"`
}

// ChiVolumeClaimTemplate is a volume claim template.
type ChiVolumeClaimTemplate struct {
	Name          string                           `json:"name"`
	Provisioner   string                           `json:"provisioner,omitempty"`
	ReclaimPolicy string                           `json:"reclaimPolicy,omitempty"`
	ObjectMeta    metav1.ObjectMeta                `json:"metadata,omitempty"`
	Spec          corev1.PersistentVolumeClaimSpec `json:"spec,omitempty"`
}
